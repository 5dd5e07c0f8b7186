"""A lambda passed as an argument and called by the callee."""


def greet():
    return "hi"


def apply(fn):
    return fn()


apply(lambda: greet())
