"""A chain of three calls."""


def third():
    return 3


def second():
    return third()


def first():
    return second()


first()
