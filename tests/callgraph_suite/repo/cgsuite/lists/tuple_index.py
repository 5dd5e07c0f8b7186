"""A function read from a tuple by a constant index."""


def low():
    return 0


def high():
    return 9


PAIR = (low, high)
PAIR[1]()
