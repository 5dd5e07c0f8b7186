"""A lambda returned by a function and called on the result."""


def helper():
    return "help"


def make():
    return lambda: helper()


make()()
