"""Comprehensions are their own scopes."""

from __future__ import annotations


def squares(n: int) -> list[int]:
    return [x * x for x in range(n)]


def index(words: list[str]) -> dict[str, int]:
    return {w: len(w) for w in words}


def unique_lengths(words: list[str]) -> set[int]:
    return {len(w) for w in words}


def nested(rows: list[list[int]]) -> list[list[int]]:
    return [[cell for cell in row if cell] for row in rows]


def lazy(n: int) -> int:
    return sum(x for x in range(n) if x % 2)
