"""A callback received in **kwargs and read by a constant key."""


def notify():
    return "sent"


def call(**kwargs):
    return kwargs["fn"]()


call(fn=notify)
