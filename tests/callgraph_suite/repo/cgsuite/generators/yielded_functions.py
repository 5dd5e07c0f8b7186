"""A generator that yields functions; each is called by the loop."""


def alpha():
    return 1


def beta():
    return 2


def handlers():
    yield alpha
    yield beta


for handler in handlers():
    handler()
