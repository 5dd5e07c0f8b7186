"""Settings read from a TOML file."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    project_name: str = "default"
    max_open: int = 20


def load_settings(path: str) -> Settings:
    file = Path(path)
    if not file.exists():
        return Settings(data_dir=Path.cwd() / ".taskflow")
    raw = tomllib.loads(file.read_text(encoding="utf-8"))
    return Settings(
        data_dir=Path(raw.get("data_dir", ".taskflow")),
        project_name=raw.get("project", "default"),
        max_open=int(raw.get("max_open", 20)),
    )
