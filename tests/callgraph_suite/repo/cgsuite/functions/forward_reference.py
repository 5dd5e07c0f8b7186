"""A function calling a function defined after it."""


def first():
    return second()


def second():
    return 2


first()
