"""Relative imports: a module and a name from it."""

from . import tools
from .tools import build


def run():
    build()
    return tools.clean()


run()
