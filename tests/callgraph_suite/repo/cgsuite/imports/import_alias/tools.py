"""Tools."""


def build():
    return "built"
