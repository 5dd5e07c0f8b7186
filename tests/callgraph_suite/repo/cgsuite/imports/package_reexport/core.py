"""Core."""


def start():
    return "started"
