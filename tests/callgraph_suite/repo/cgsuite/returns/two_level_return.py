"""A function returned through two levels of calls."""


def leaf():
    return "leaf"


def middle():
    return leaf


def outer():
    return middle()


outer()()
