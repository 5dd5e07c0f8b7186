"""Persistence as JSON files."""

from __future__ import annotations

import json
from pathlib import Path

from ..models.project import Project
from ..utils.text import slug


class JsonStorage:
    def __init__(self, root: Path) -> None:
        self.root = root

    def path_for(self, name: str) -> Path:
        return self.root / f"{slug(name)}.json"

    def load(self, name: str) -> Project:
        path = self.path_for(name)
        if not path.exists():
            return Project(name)
        return Project.from_dict(json.loads(path.read_text(encoding="utf-8")))

    def save(self, project: Project) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        self.path_for(project.name).write_text(json.dumps(project.to_dict()), encoding="utf-8")
