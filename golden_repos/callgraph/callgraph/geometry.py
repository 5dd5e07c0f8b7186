"""Methods calling methods, classmethods, staticmethods and constructors."""

from __future__ import annotations

import math

from .mathops import mul


class Vector:
    def __init__(self, x: int, y: int) -> None:
        self.x = x
        self.y = y

    @classmethod
    def zero(cls) -> Vector:
        return cls(0, 0)

    @staticmethod
    def from_pair(pair: tuple[int, int]) -> Vector:
        return Vector(pair[0], pair[1])

    def dot(self, other: Vector) -> int:
        return self.x * other.x + self.y * other.y

    def length(self) -> float:
        return math.sqrt(self.dot(self))

    def scaled(self, k: int) -> Vector:
        return Vector(mul(self.x, k), mul(self.y, k))

    def normalized_length(self) -> float:
        return Vector.from_pair((self.x, self.y)).length()
