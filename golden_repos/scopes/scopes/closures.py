"""Closures, nonlocal and global."""

from __future__ import annotations

from collections.abc import Callable

counter_total = 0


def make_counter(start: int = 0) -> Callable[[int], int]:
    """A counter that remembers its count between calls."""
    count = start

    def increment(step: int = 1) -> int:
        nonlocal count
        count += step
        return count

    return increment


def bump_global() -> int:
    """Rebind the module-level counter."""
    global counter_total
    counter_total += 1
    return counter_total


def helper() -> str:
    """The module-level helper (shadowed inside ``outer``)."""
    return "module helper"


def outer() -> str:
    """Calls its own local ``helper``, not the module-level one."""

    def helper() -> str:
        return "local helper"

    return helper()


def uses_module_helper() -> str:
    """Calls the module-level ``helper``."""
    return helper()


def compose(f: Callable[[int], int], g: Callable[[int], int]) -> Callable[[int], int]:
    """f after g."""
    return lambda x: f(g(x))


def make_multipliers() -> list[Callable[[int], int]]:
    """Late binding avoided with a default argument."""
    return [lambda x, i=i: x * i for i in range(3)]


def deep() -> Callable[[], Callable[[], int]]:
    """Three levels of nesting."""
    level = 1

    def middle() -> Callable[[], int]:
        def inner() -> int:
            return level + 1

        return inner

    return middle


class Config:
    """A class body is a scope that comprehensions cannot see into (except the first iterable)."""

    values = (1, 2, 3)
    doubled = [v * 2 for v in values]

    def total(self) -> int:
        return sum(self.values)
