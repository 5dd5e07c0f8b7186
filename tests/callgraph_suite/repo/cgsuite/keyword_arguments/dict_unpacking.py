"""Keyword arguments unpacked from a dict literal with **."""


def notify():
    return "notified"


def trigger(callback=None, retries=0):
    return callback()


options = {"callback": notify, "retries": 1}
trigger(**options)
