"""A lambda whose body calls a function."""


def compute():
    return 1


handler = lambda: compute()  # noqa: E731
handler()
