"""Arithmetic with direct, recursive and mutually recursive calls."""

from __future__ import annotations

import functools


def add(a: int, b: int) -> int:
    return a + b


def mul(a: int, b: int) -> int:
    result = 0
    for _ in range(b):
        result = add(result, a)
    return result


def factorial(n: int) -> int:
    """Direct recursion."""
    if n <= 1:
        return 1
    return mul(n, factorial(n - 1))


@functools.lru_cache(maxsize=None)
def fib(n: int) -> int:
    """Recursion through a decorated name."""
    return n if n < 2 else add(fib(n - 1), fib(n - 2))


def is_even(n: int) -> bool:
    """Mutual recursion with is_odd."""
    return True if n == 0 else is_odd(n - 1)


def is_odd(n: int) -> bool:
    return False if n == 0 else is_even(n - 1)
