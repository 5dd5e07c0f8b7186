"""Tasks."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from ..utils.text import truncate
from .base import Model


class Status(Enum):
    OPEN = "open"
    DONE = "done"


@dataclass
class Task(Model):
    title: str
    priority: int = 3
    status: Status = Status.OPEN
    tags: list[str] = field(default_factory=list)

    def validate(self) -> None:
        if not 1 <= self.priority <= 5:
            raise ValueError(f"priority out of range: {self.priority}")

    def to_dict(self) -> dict[str, Any]:
        return {
            "title": truncate(self.title, 80),
            "priority": self.priority,
            "status": self.status.value,
            "tags": list(self.tags),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Task:
        return cls(
            title=data["title"],
            priority=data.get("priority", 3),
            status=Status(data.get("status", "open")),
            tags=list(data.get("tags", [])),
        )

    def close(self) -> None:
        self.status = Status.DONE
