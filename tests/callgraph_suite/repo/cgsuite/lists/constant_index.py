"""A function read from a list literal by a constant index."""


def first():
    return 1


def second():
    return 2


FUNCS = [first, second]
FUNCS[0]()
