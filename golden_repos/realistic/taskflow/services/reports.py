"""Plain-text reports."""

from __future__ import annotations

from ..models.project import Project
from ..utils.timefmt import humanize
from .scheduler import Scheduler


def summarize(project: Project, elapsed_s: float = 0.0) -> str:
    upcoming = Scheduler(project).next_task()
    lines = [
        f"project {project.name}: {len(project.open_tasks())} open of {len(project.tasks)}",
        f"next: {upcoming.title if upcoming else '-'}",
        f"elapsed: {humanize(elapsed_s)}",
    ]
    return "\n".join(lines)
