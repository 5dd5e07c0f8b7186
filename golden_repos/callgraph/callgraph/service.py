"""Calls through module aliases, from-import aliases, self and classmethods."""

from __future__ import annotations

import callgraph.mathops as mo

from . import mathops
from .geometry import Vector
from .mathops import add as plus


class Accumulator:
    def __init__(self) -> None:
        self.total = 0

    def push(self, value: int) -> Accumulator:
        self.total = plus(self.total, value)
        return self

    def push_many(self, values: list[int]) -> Accumulator:
        for value in values:
            self.push(value)
        return self

    @classmethod
    def from_values(cls, values: list[int]) -> Accumulator:
        acc = Accumulator()
        acc.push_many(values)
        return acc


def total_of(values: list[int]) -> int:
    return Accumulator.from_values(values).total


def fact(n: int) -> int:
    return mathops.factorial(n)


def fact_alias(n: int) -> int:
    return mo.factorial(n)


def origin_length() -> float:
    zero = Vector.zero()
    return zero.length()


def outer(n: int) -> int:
    def inner(k: int) -> int:
        return plus(k, 1)

    return inner(n)


def dispatch(name: str, *args: int) -> int:
    """Dynamically dispatched: no static CPG can know which function runs."""
    handler = getattr(mathops, name)
    return handler(*args)


def dispatch_method(acc: Accumulator, method: str) -> object:
    """Dynamically dispatched method call."""
    return getattr(acc, method)(1)


HANDLERS = {"add": plus, "mul": mathops.mul}


def dispatch_table(name: str, a: int, b: int) -> int:
    """Dispatched through a dictionary: not statically resolvable."""
    return HANDLERS[name](a, b)
