"""A function read from a list by a negative constant index."""


def one():
    return 1


def two():
    return 2


def three():
    return 3


HOOKS = [one, two, three]
HOOKS[-1]()
