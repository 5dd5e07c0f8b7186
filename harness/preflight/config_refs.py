"""Legacy references in the project's configuration: ``pyproject.toml``, ``codeanatomy.toml``
and ``requirements*.txt`` at the scan root.

Found: dependency declarations of apache-hamilton / sf-hamilton / rustworkx (project
dependencies, optional dependencies, dependency groups, build requirements, uv and poetry
dependency tables, requirements files); console scripts and entry points whose target is a
legacy module; ``[hamilton]`` / ``[tool.codeanatomy.hamilton]`` sections; and, anywhere under
``[tool.*]`` or in ``codeanatomy.toml``, string values that *are* a reference to a legacy
module (``hamilton.*``, ``backends/legacy``), not prose that mentions one.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from backends.extract.source import read_regular_file
from harness.preflight.hints import config_hint
from harness.preflight.report import Blocker, BlockerKind, Category, Problem
from harness.preflight.stack import (
    config_string_target,
    normalize_distribution,
    requirement_distribution,
)
from harness.preflight.toml_lines import TomlLines

Keys = tuple[str, ...]

_CATEGORY: dict[BlockerKind, Category] = {
    "dependency": "dependency",
    "entry_point": "entry_point",
    "config_section": "config",
    "config_reference": "config",
}
# Key paths of pyproject.toml whose value is a list of requirement strings.
_REQUIREMENT_LISTS: tuple[Keys, ...] = (
    ("project", "dependencies"),
    ("build-system", "requires"),
    ("tool", "uv", "dev-dependencies"),
    ("tool", "uv", "constraint-dependencies"),
    ("tool", "uv", "override-dependencies"),
)
# Key paths of tables of requirement lists (one list per extra or group).
_REQUIREMENT_GROUPS: tuple[Keys, ...] = (
    ("project", "optional-dependencies"),
    ("dependency-groups",),
)
# Poetry tables whose keys are distribution names.
_POETRY_TABLES: tuple[Keys, ...] = (
    ("tool", "poetry", "dependencies"),
    ("tool", "poetry", "dev-dependencies"),
)
_HAMILTON_SECTIONS: tuple[Keys, ...] = (("hamilton",), ("tool", "codeanatomy", "hamilton"))


def _where(keys: Keys) -> str:
    return "[" + ".".join(keys) + "]"


@dataclass(frozen=True)
class _Found:
    keys: Keys
    kind: BlockerKind
    target: str
    value: str | None  # the string to locate, or None to locate the key itself


def _get(data: dict[str, Any], keys: Keys) -> Any:
    node: Any = data
    for key in keys:
        if not isinstance(node, dict) or key not in node:
            return None
        node = node[key]
    return node


def _requirements(keys: Keys, values: Any) -> Iterator[_Found]:
    for value in values if isinstance(values, list) else ():
        if isinstance(value, str) and (dist := requirement_distribution(value)) is not None:
            yield _Found(keys, "dependency", dist, value)


def _strings(keys: Keys, node: Any) -> Iterator[tuple[Keys, str]]:
    """Every string value below ``node``, with the key path of its table."""
    if isinstance(node, str):
        yield keys, node
    elif isinstance(node, list):
        for item in node:
            yield from _strings(keys, item)
    elif isinstance(node, dict):
        for key in sorted(node):
            yield from _strings((*keys, key), node[key])


def _entry_points(data: dict[str, Any]) -> Iterator[_Found]:
    tables: list[tuple[Keys, Any]] = [
        (("project", "scripts"), _get(data, ("project", "scripts"))),
        (("project", "gui-scripts"), _get(data, ("project", "gui-scripts"))),
        (("tool", "poetry", "scripts"), _get(data, ("tool", "poetry", "scripts"))),
    ]
    groups = _get(data, ("project", "entry-points"))
    if isinstance(groups, dict):
        tables += [(("project", "entry-points", g), groups[g]) for g in sorted(groups)]
    for keys, table in tables:
        for name, value in sorted(table.items()) if isinstance(table, dict) else ():
            if isinstance(value, str) and (target := config_string_target(value)) is not None:
                yield _Found((*keys, name), "entry_point", target, value)


def _dependencies(data: dict[str, Any]) -> Iterator[_Found]:
    for keys in _REQUIREMENT_LISTS:
        yield from _requirements(keys, _get(data, keys))
    for keys in _REQUIREMENT_GROUPS:
        table = _get(data, keys)
        for group in sorted(table) if isinstance(table, dict) else ():
            yield from _requirements((*keys, group), table[group])
    poetry: list[Keys] = list(_POETRY_TABLES)
    groups = _get(data, ("tool", "poetry", "group"))
    if isinstance(groups, dict):
        poetry += [("tool", "poetry", "group", g, "dependencies") for g in sorted(groups)]
    for keys in poetry:
        table = _get(data, keys)
        for name in sorted(table) if isinstance(table, dict) else ():
            dist = requirement_distribution(name)
            if dist is not None and normalize_distribution(name) == dist:
                yield _Found((*keys, name), "dependency", dist, None)


def _sections(data: dict[str, Any]) -> Iterator[_Found]:
    for keys in _HAMILTON_SECTIONS:
        if _get(data, keys) is not None:
            yield _Found(keys, "config_section", ".".join(keys), None)


def _references(data: dict[str, Any], under: Keys, skip: tuple[Keys, ...]) -> Iterator[_Found]:
    """String values naming a legacy module, below ``under`` (``()`` is the whole file)."""
    for keys, value in _strings(under, _get(data, under) if under else data):
        if any(keys[: len(s)] == s for s in skip):
            continue
        target = config_string_target(value)
        if target is not None:
            yield _Found(keys, "config_reference", target, value)


def _pyproject(data: dict[str, Any]) -> Iterator[_Found]:
    yield from _dependencies(data)
    yield from _entry_points(data)
    yield from _sections(data)
    handled = (
        *_REQUIREMENT_LISTS,
        *_POETRY_TABLES,
        ("tool", "poetry", "group"),
        ("tool", "poetry", "scripts"),
        *_HAMILTON_SECTIONS,
    )
    yield from _references(data, ("tool",), handled)


def _codeanatomy(data: dict[str, Any]) -> Iterator[_Found]:
    yield from _sections(data)
    yield from _references(data, (), _HAMILTON_SECTIONS)


def _blocker(rel: str, lines: TomlLines, found: _Found) -> Blocker:
    if found.value is None:
        line, col = lines.key(found.keys)
    else:
        line, col = lines.value(found.keys, found.value)
    keys = found.keys[:-1] if found.kind == "dependency" and found.value is None else found.keys
    where = _where(keys)
    return Blocker(
        path=rel,
        line=line,
        col=col,
        kind=found.kind,
        target=found.target,
        chain=(rel, found.target),
        category=_CATEGORY[found.kind],
        hint=config_hint(found.kind, found.target, where),
        key=".".join(keys),
    )


def _read(root: Path, rel: str) -> tuple[str | None, Problem | None]:
    try:
        return read_regular_file(root / rel).decode("utf-8"), None
    except (OSError, UnicodeDecodeError) as exc:
        return None, Problem(
            path=rel, line=None, kind="unreadable", message=str(exc), blocking=True
        )


def scan_toml(root: Path, rel: str) -> tuple[list[Blocker], list[Problem]]:
    """Blockers of one TOML file at the root (``pyproject.toml`` or ``codeanatomy.toml``)."""
    if not (root / rel).is_file():
        return [], []
    text, problem = _read(root, rel)
    if text is None:
        return [], [problem] if problem else []
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = f"invalid TOML, not checked: {exc}"
        return [], [Problem(path=rel, line=None, kind="toml_error", message=message, blocking=True)]
    except RecursionError:
        # tomllib recurses per nesting level: a 1,000-deep array is data we cannot read.
        message = "invalid TOML, not checked: nested too deeply to parse"
        return [], [Problem(path=rel, line=None, kind="toml_error", message=message, blocking=True)]
    finder = _pyproject if rel.endswith("pyproject.toml") else _codeanatomy
    lines = TomlLines(text)
    return [_blocker(rel, lines, f) for f in finder(data)], []


def scan_requirements(root: Path, rel: str) -> tuple[list[Blocker], list[Problem]]:
    """Dependency blockers of one ``requirements*.txt`` file (one requirement per line)."""
    text, problem = _read(root, rel)
    if text is None:
        return [], [problem] if problem else []
    blockers: list[Blocker] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split(" #", 1)[0].strip()
        if not line or line.startswith(("#", "-")):
            continue
        dist = requirement_distribution(line)
        if dist is not None:
            blockers.append(
                Blocker(
                    path=rel,
                    line=number,
                    col=len(raw[: raw.index(line[0])].encode("utf-8")),
                    kind="dependency",
                    target=dist,
                    chain=(rel, dist),
                    category="dependency",
                    hint=config_hint("dependency", dist, rel),
                )
            )
    return blockers, []
