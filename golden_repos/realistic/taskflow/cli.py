"""Command line interface."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from .config import load_settings
from .models import Project, Task
from .services.reports import summarize
from .services.scheduler import Scheduler
from .services.storage import JsonStorage


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="taskflow")
    parser.add_argument("--config", default="taskflow.toml")
    sub = parser.add_subparsers(dest="command", required=True)
    add = sub.add_parser("add")
    add.add_argument("title")
    add.add_argument("--priority", type=int, default=3)
    sub.add_parser("next")
    sub.add_parser("report")
    return parser


def cmd_add(storage: JsonStorage, project: Project, title: str, priority: int) -> int:
    project.add_task(Task(title=title, priority=priority))
    storage.save(project)
    return 0


def cmd_next(project: Project) -> int:
    task = Scheduler(project).next_task()
    print(task.title if task else "nothing to do")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    settings = load_settings(args.config)
    storage = JsonStorage(settings.data_dir)
    project = storage.load(settings.project_name)
    if args.command == "add":
        return cmd_add(storage, project, args.title, args.priority)
    if args.command == "next":
        return cmd_next(project)
    print(summarize(project), file=sys.stdout)
    return 0
