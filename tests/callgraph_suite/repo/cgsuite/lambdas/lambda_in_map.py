"""A lambda given to map, which calls it."""


def double(x):
    return x * 2


values = list(map(lambda x: double(x), [1, 2]))
