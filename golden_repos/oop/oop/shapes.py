"""Concrete shapes."""

from __future__ import annotations

from dataclasses import dataclass, field

from .base import Shape
from .decorators import logged, tagged


@tagged("flat")
class Rectangle(Shape):
    """Width times height."""

    def __init__(self, width: float, height: float) -> None:
        super().__init__("rectangle")
        self.width = Shape.validate(width)
        self.height = Shape.validate(height)

    def area(self) -> float:
        return self.width * self.height


class Square(Rectangle):
    """A rectangle with equal sides."""

    def __init__(self, side: float) -> None:
        super().__init__(side, side)
        self.name = "square"

    @logged
    def area(self) -> float:
        return super().area()

    @property
    def label(self) -> str:
        return "SQ:" + self.name

    class Meta:
        """Nested configuration."""

        ordering = ("side",)

        class Inner:
            def ping(self) -> str:
                return "pong"


@dataclass(frozen=True)
class Point:
    """An immutable 2D point."""

    x: float
    y: float = 0.0
    tags: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        Shape.validate(abs(self.x))

    def moved(self, dx: float) -> Point:
        return Point(self.x + dx, self.y)


def biggest(shapes: list[Shape]) -> Shape:
    """The shape with the largest area."""
    return max(shapes, key=lambda s: s.area())


def make_square() -> Square:
    """A unit square."""
    return Square(1.0)
