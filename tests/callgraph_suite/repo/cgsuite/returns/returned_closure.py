"""A closure returned by a function, called with an argument."""


def multiply(a, b):
    return a * b


def make_multiplier(n):
    def multiplier(x):
        return multiply(x, n)

    return multiplier


triple = make_multiplier(3)
triple(2)
