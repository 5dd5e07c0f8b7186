"""A class used as a decorator: calling the decorated name runs __call__."""


class CountCalls:
    def __init__(self, func):
        self.func = func
        self.calls = 0

    def __call__(self, *args):
        self.calls += 1
        return self.func(*args)


@CountCalls
def hello():
    return "hello"


hello()
