"""Which configuration file governs a folder, and where the project root is (DESIGN §9)."""

from __future__ import annotations

import tomllib
from pathlib import Path

from harness.config import model as m


def find_config(start: Path) -> tuple[Path | None, Path]:
    """The configuration file governing ``start`` (or None) and the project root.

    Walks up to the first folder holding ``codeanatomy.toml`` or a pyproject.toml with a
    ``[tool.codeanatomy]`` table; stops at a repository boundary (``.git``). Without a file,
    the root is the nearest folder with pyproject.toml or ``.git``, else ``start``.
    """
    start = start.absolute()
    fallback: Path | None = None
    for folder in (start, *start.parents):
        candidate = folder / m.CONFIG_FILENAME
        if candidate.is_file():
            return candidate, folder
        pyproject = folder / m.PYPROJECT_FILENAME
        if pyproject.is_file() and has_tool_table(pyproject):
            return pyproject, folder
        if fallback is None and (pyproject.is_file() or (folder / ".git").exists()):
            fallback = folder
        if (folder / ".git").exists():
            break
    return None, fallback or start


def has_tool_table(pyproject: Path) -> bool:
    """Whether a pyproject.toml holds a ``[tool.codeanatomy]`` table."""
    try:
        data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, RecursionError):
        # A broken pyproject.toml is not ours to report unless it holds our table; tomllib
        # recurses per nesting level, so a 1,000-deep array is broken too.
        return False
    tool = data.get("tool")
    return isinstance(tool, dict) and isinstance(tool.get("codeanatomy"), dict)
