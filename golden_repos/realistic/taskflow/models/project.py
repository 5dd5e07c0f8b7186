"""Projects hold tasks."""

from __future__ import annotations

from typing import Any

from .base import Model
from .task import Status, Task


class Project(Model):
    def __init__(self, name: str, tasks: list[Task] | None = None) -> None:
        self.name = name
        self.tasks: list[Task] = list(tasks or [])

    def add_task(self, task: Task) -> None:
        task.validate()
        self.tasks.append(task)

    def open_tasks(self) -> list[Task]:
        return [t for t in self.tasks if t.status is Status.OPEN]

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "tasks": [t.to_dict() for t in self.tasks]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Project:
        return cls(data["name"], [Task.from_dict(t) for t in data.get("tasks", [])])
