"""A function read from a dict literal by a constant key and called."""


def start():
    return "start"


def stop():
    return "stop"


ACTIONS = {"start": start, "stop": stop}
ACTIONS["start"]()
