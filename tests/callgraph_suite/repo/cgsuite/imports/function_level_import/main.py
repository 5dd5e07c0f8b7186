"""Imports inside the function that uses the name."""


def run():
    from .tools import build

    return build()


run()
