"""Legacy references in the project's configuration: ``pyproject.toml``, ``codeanatomy.toml``
and ``requirements*.txt`` at the scan root.

Found: dependency declarations of apache-hamilton / sf-hamilton / rustworkx (project
dependencies, optional dependencies, dependency groups, build requirements, uv and poetry
dependency tables, requirements files); console scripts and entry points whose target is a
legacy module; ``[hamilton]`` / ``[tool.codeanatomy.hamilton]`` sections; and, anywhere under
``[tool.*]`` or in ``codeanatomy.toml``, string values that *are* a reference to a legacy
module (``hamilton.*``, ``backends/legacy``), not prose that mentions one.

Requirements are read by ``packaging`` (``backends.extract.requirements``, the reading the
``python_external`` extractor uses too); a requirement string or line that is not one (a URL,
a local path, a typo) is a non-blocking ``invalid_requirement`` problem: it was not checked.
Positions come from ``harness.config.locate`` (the locator of configuration errors too).
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from backends.extract.requirements import requirement_lines, requirement_name
from backends.extract.source import read_regular_file
from harness.config.locate import Lookup, locate
from harness.preflight.hints import config_hint
from harness.preflight.report import Blocker, BlockerKind, Category, Problem
from harness.preflight.stack import (
    config_string_target,
    legacy_distribution,
    requirement_distribution,
)

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


def _requirement_lists(data: dict[str, Any]) -> Iterator[tuple[Keys, Any]]:
    """Every list of requirement strings of a pyproject.toml, with its key path."""
    for keys in _REQUIREMENT_LISTS:
        yield keys, _get(data, keys)
    for keys in _REQUIREMENT_GROUPS:
        table = _get(data, keys)
        for group in sorted(table) if isinstance(table, dict) else ():
            yield (*keys, group), table[group]


def _invalid_requirements(data: dict[str, Any]) -> Iterator[tuple[Keys, str]]:
    """Strings of the requirement lists that are not PEP 508 requirements."""
    for keys, values in _requirement_lists(data):
        for value in values if isinstance(values, list) else ():
            if isinstance(value, str) and requirement_name(value) is None:
                yield keys, value


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
    for keys, values in _requirement_lists(data):
        yield from _requirements(keys, values)
    poetry: list[Keys] = list(_POETRY_TABLES)
    groups = _get(data, ("tool", "poetry", "group"))
    if isinstance(groups, dict):
        poetry += [("tool", "poetry", "group", g, "dependencies") for g in sorted(groups)]
    for keys in poetry:
        table = _get(data, keys)
        for name in sorted(table) if isinstance(table, dict) else ():
            dist = legacy_distribution(name)
            if dist is not None:
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


def _blocker(rel: str, at: tuple[int, int] | None, found: _Found) -> Blocker:
    # Found by tomllib, so it is in the text; a place tomlkit cannot read is line 1.
    line, col = at or (1, 0)
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
    pyproject = rel.endswith("pyproject.toml")
    found = list((_pyproject if pyproject else _codeanatomy)(data))
    invalid = list(_invalid_requirements(data)) if pyproject else []
    lookups: list[Lookup] = [(f.keys, f.value) for f in found]
    lookups.extend(invalid)
    at = locate(text, lookups)
    blockers = [_blocker(rel, where, f) for f, where in zip(found, at[: len(found)], strict=True)]
    problems = [
        _invalid_requirement(rel, (where or (1, 0))[0], value, _where(keys))
        for (keys, value), where in zip(invalid, at[len(found) :], strict=True)
    ]
    return blockers, problems


def _invalid_requirement(rel: str, line: int, value: str, where: str) -> Problem:
    shown = value if len(value) <= 80 else value[:77] + "..."
    return Problem(
        path=rel,
        line=line,
        kind="invalid_requirement",
        message=f"{where}: {shown!r} is not a PEP 508 requirement; not checked",
        blocking=False,
    )


def scan_requirements(root: Path, rel: str) -> tuple[list[Blocker], list[Problem]]:
    """Dependency blockers of one ``requirements*.txt`` file (one requirement per line)."""
    text, problem = _read(root, rel)
    if text is None:
        return [], [problem] if problem else []
    blockers: list[Blocker] = []
    problems: list[Problem] = []
    for line in requirement_lines(text):
        name = requirement_name(line.text)
        if name is None:
            problems.append(_invalid_requirement(rel, line.line, line.text, rel))
            continue
        dist = legacy_distribution(name)
        if dist is not None:
            blockers.append(
                Blocker(
                    path=rel,
                    line=line.line,
                    col=line.col,
                    kind="dependency",
                    target=dist,
                    chain=(rel, dist),
                    category="dependency",
                    hint=config_hint("dependency", dist, rel),
                )
            )
    return blockers, problems
