"""Abstract base classes."""

from __future__ import annotations

from abc import ABC, ABCMeta, abstractmethod


class Shape(ABC):
    """Anything with an area."""

    def __init__(self, name: str) -> None:
        self.name = name

    @abstractmethod
    def area(self) -> float:
        """The area; every concrete shape defines it."""

    def describe(self) -> str:
        """A human sentence about the shape."""
        return f"{self.name} with area {self.area():.2f}"

    @property
    def label(self) -> str:
        """Upper-case name."""
        return self.name.upper()

    @label.setter
    def label(self, value: str) -> None:
        self.name = value.lower()

    @classmethod
    def unit(cls) -> Shape:
        """A shape named 'unit'."""
        return cls("unit")

    @staticmethod
    def validate(value: float) -> float:
        """Reject negative lengths."""
        if value < 0:
            raise ValueError("negative length")
        return value


class Repository(metaclass=ABCMeta):
    """Stores shapes; only the interface lives here."""

    @abstractmethod
    def save(self, shape: Shape) -> None:
        """Persist ``shape``."""

    @abstractmethod
    def load(self, name: str) -> Shape:
        """Load the shape called ``name``."""
