"""Generators and delegation."""

from __future__ import annotations

from collections.abc import Generator, Iterator


def countdown(n: int) -> Iterator[int]:
    while n > 0:
        yield n
        n -= 1


def chained(n: int) -> Iterator[int]:
    yield from countdown(n)
    yield 0


def accumulator() -> Generator[int, int, None]:
    total = 0
    while True:
        value = yield total
        total += value
