"""Half of an import cycle."""

from . import cycle_b


def ping(n: int) -> str:
    return "a" if n <= 0 else cycle_b.pong(n - 1)
