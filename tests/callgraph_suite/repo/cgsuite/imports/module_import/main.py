"""Imports the helpers module and calls a function through it."""

from cgsuite.imports.module_import import helpers


def run():
    return helpers.assist()


run()
