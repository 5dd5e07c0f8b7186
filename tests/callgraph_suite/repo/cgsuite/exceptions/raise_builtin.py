"""raise of a builtin exception class called with a message."""


def check(value):
    if not value:
        raise ValueError("empty")
    return value


check("x")
