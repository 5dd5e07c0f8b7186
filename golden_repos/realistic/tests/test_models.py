"""Tests of the models (a fixture: parsed, never run)."""

import pytest

from taskflow.models.project import Project
from taskflow.models.task import Status, Task


def test_task_round_trip() -> None:
    task = Task(title="write docs", priority=2)
    assert Task.from_dict(task.to_dict()) == task


def test_bad_priority_is_rejected() -> None:
    with pytest.raises(ValueError):
        Project("p").add_task(Task(title="x", priority=9))


def test_close_marks_done() -> None:
    task = Task(title="x")
    task.close()
    assert task.status is Status.DONE
