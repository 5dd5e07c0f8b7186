"""Tools."""


def build():
    return "built"


def clean():
    return "clean"
