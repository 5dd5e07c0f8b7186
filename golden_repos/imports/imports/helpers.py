"""A module without ``__all__``: a star import takes every public name."""


def helper_a() -> str:
    return "a"


def helper_b() -> str:
    return "b"


def _hidden() -> str:
    return "hidden"
