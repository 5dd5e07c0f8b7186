"""Tools."""

__all__ = ["build"]


def build():
    return "built"


def _hidden():
    return "hidden"
