"""Structural pattern matching and assignment expressions."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass


@dataclass
class Move:
    dx: int
    dy: int


def step(move: Move) -> str:
    return f"{move.dx},{move.dy}"


def describe(command: object) -> str:
    match command:
        case {"action": "move", "dx": int(dx), "dy": int(dy)}:
            return step(Move(dx, dy))
        case [first, *rest]:
            return f"list starting {first} with {len(rest)} more"
        case Move(dx=0, dy=0):
            return "stand still"
        case str() as text if (n := len(text)) > 3:
            return f"long text {n}"
        case _:
            return "unknown"


def first_long(words: Iterator[str]) -> str | None:
    while (word := next(words, None)) is not None:
        if len(word) > 5:
            return word
    return None
