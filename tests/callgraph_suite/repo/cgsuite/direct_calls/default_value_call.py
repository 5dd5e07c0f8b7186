"""A call in a default value runs when the def statement runs, in the enclosing scope."""


def default_size():
    return 10


def allocate(size=default_size()):
    return [0] * size


allocate()
