"""A function that calls itself."""


def countdown(n):
    if n > 0:
        countdown(n - 1)
    return n


countdown(3)
