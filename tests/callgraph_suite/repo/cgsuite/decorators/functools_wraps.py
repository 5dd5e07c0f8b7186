"""A wrapper decorated with functools.wraps."""

import functools


def timed(func):
    @functools.wraps(func)
    def wrapper(*args):
        return func(*args)

    return wrapper


@timed
def compute(x):
    return x * 2


compute(2)
