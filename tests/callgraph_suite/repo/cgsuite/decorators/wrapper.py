"""A decorator returning a wrapper: calling the decorated name runs the wrapper."""


def trace(func):
    def wrapper(*args, **kwargs):
        return func(*args, **kwargs)

    return wrapper


@trace
def work(x):
    return x + 1


work(1)
