"""Tests of the scheduler (a fixture: parsed, never run)."""

from taskflow.models import Project, Task
from taskflow.services.scheduler import Scheduler
from taskflow.utils.timefmt import humanize


def test_highest_priority_first() -> None:
    project = Project("p", [Task(title="b", priority=3), Task(title="a", priority=1)])
    assert Scheduler(project).next_task().title == "a"


def test_humanize_minutes() -> None:
    assert humanize(125) == "2m05s"
