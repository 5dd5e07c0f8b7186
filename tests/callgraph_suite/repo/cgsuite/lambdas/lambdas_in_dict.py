"""Two lambdas in a dict literal; one is called by a constant key."""


def add(a, b):
    return a + b


def negate(a):
    return -a


OPS = {"add": lambda a, b: add(a, b), "neg": lambda a: negate(a)}
OPS["neg"](1)
