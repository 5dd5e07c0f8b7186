"""A function stored as an attribute of another function object."""


def helper():
    return "help"


def command():
    return "run"


command.helper = helper
command.helper()
