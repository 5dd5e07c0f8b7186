"""A function read from a list nested in a list."""


def alpha():
    return "a"


def beta():
    return "b"


GRID = [[alpha], [beta]]
GRID[1][0]()
