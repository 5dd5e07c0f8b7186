"""A callback forwarded through a second function before it is called."""


def leaf():
    return 1


def invoke(fn):
    return fn()


def middle(fn):
    return invoke(fn)


middle(leaf)
