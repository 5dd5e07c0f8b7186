"""The other half of an import cycle."""

from . import cycle_a


def pong(n: int) -> str:
    return "b" if n <= 0 else cycle_a.ping(n - 1)
