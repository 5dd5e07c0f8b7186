"""Picks the next task."""

from __future__ import annotations

from ..models import Project, Task


class Scheduler:
    def __init__(self, project: Project) -> None:
        self.project = project

    def ranked(self) -> list[Task]:
        return sorted(self.project.open_tasks(), key=lambda t: (t.priority, t.title))

    def next_task(self) -> Task | None:
        ranked = self.ranked()
        return ranked[0] if ranked else None
