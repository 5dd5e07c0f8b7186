"""An annotated assignment of a function to a name."""

from collections.abc import Callable


def compute() -> int:
    return 7


handler: Callable[[], int] = compute
value = handler()
