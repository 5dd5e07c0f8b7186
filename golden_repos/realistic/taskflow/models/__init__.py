"""Domain models."""

from .project import Project
from .task import Status, Task

__all__ = ["Project", "Status", "Task"]
