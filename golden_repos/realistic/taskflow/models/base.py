"""The base of every model."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any


class Model(ABC):
    """Serializable, validated."""

    @abstractmethod
    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready mapping."""

    def validate(self) -> None:
        """Raise ValueError when the model is inconsistent."""

    def checked(self) -> Model:
        self.validate()
        return self
