"""A perfectly normal module among hostile neighbours: its facts must survive."""

from trap_pkg.inner import innocent


def survivor(value: int) -> int:
    """Still here."""
    return helper(value) + len(innocent())


def helper(value: int) -> int:
    return value * 2
