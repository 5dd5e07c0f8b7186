"""A function returned by a call is called immediately: f()()."""


def func():
    return "func"


def make():
    return func


make()()
