"""A returned function bound to a name, then called."""


def handler():
    return "handled"


def pick():
    return handler


chosen = pick()
chosen()
