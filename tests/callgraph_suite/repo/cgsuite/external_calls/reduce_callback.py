"""functools.reduce calls the function of the program that it is given."""

import functools


def add(a, b):
    return a + b


def total(values):
    return functools.reduce(add, values, 0)


total([1, 2, 3])
