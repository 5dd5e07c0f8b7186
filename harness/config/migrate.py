"""``codeanatomy config migrate``: the file rewrite of a legacy ``[hamilton]`` section.

What each legacy key becomes is :mod:`harness.config.hamilton`'s (the same mapping every load
applies); this module only rewrites the file. It uses tomlkit so comments, ordering,
formatting and unknown keys and sections survive: each moved key carries the comment lines
just above it and its inline comment; a dropped key stays as a comment, so nothing the user
wrote silently disappears; new sections take the place of ``[hamilton]``; running it twice
changes nothing the second time. A rewrite that would not load is never written.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import msgspec
import tomlkit
from tomlkit.container import Container
from tomlkit.exceptions import ParseError
from tomlkit.items import AbstractTable, Comment, Item, Table, Whitespace

from harness.config.hamilton import Dropped, HamiltonMapping, map_hamilton
from harness.config.load import load_text
from harness.config.model import LEGACY_SECTION, PYPROJECT_FILENAME, ConfigError
from harness.config.template import write_text_atomic


class MigrationResult(msgspec.Struct, frozen=True, kw_only=True):
    """The rewritten text and what moved; ``changed`` is false when there was nothing to do."""

    text: str
    changed: bool
    mapping: HamiltonMapping | None


def _tables(container: Container, name: str) -> list[AbstractTable]:
    """Every fragment of table ``name`` in ``container`` (out-of-order tables repeat a key)."""
    return [
        item
        for key, item in container.body
        if key is not None and key.key == name and isinstance(item, AbstractTable)
    ]


def _settings_containers(doc: tomlkit.TOMLDocument, *, pyproject: bool) -> list[Container]:
    """The containers holding our sections: the document, or each ``[tool.codeanatomy]``."""
    if not pyproject:
        return [doc]
    return [ca.value for tool in _tables(doc, "tool") for ca in _tables(tool.value, "codeanatomy")]


def migrate_text(text: str, *, pyproject: bool = False) -> MigrationResult:
    """Rewrite ``[hamilton]`` into ``[engine]``/``[extract]``; raises tomlkit's ParseError."""
    doc = tomlkit.parse(text)
    containers = _settings_containers(doc, pyproject=pyproject)
    home = next((c for c in containers if _tables(c, LEGACY_SECTION)), None)
    if home is None:
        return MigrationResult(text=text, changed=False, mapping=None)
    fragments = _tables(home, LEGACY_SECTION)
    legacy: dict[str, Any] = {}
    groups: dict[str, tuple[list[Comment], Item]] = {}
    orphans: list[Comment] = []
    for fragment in fragments:
        legacy.update(fragment.unwrap())
        fragment_groups, fragment_orphans = _comment_groups(fragment)
        groups.update(fragment_groups)
        orphans.extend(fragment_orphans)
    sections: dict[str, AbstractTable] = {}
    present: dict[str, set[str]] = {}
    for name in ("engine", "extract"):
        found = [table for c in containers for table in _tables(c, name)]
        if found:
            sections[name] = found[0]
            present[name] = {key for table in found for key in table.unwrap()}
    mapping = map_hamilton(legacy, present)
    additions: dict[str, list[tuple[str | None, Item]]] = {}
    for assignment in mapping.assignments:
        comments, original = groups[assignment.source_key]
        items = additions.setdefault(assignment.section, [])
        items.extend((None, c) for c in comments)
        items.append((assignment.key, _converted_item(original, assignment.value)))
    for drop in mapping.dropped:
        comments, original = groups[drop.source_key]
        items = additions.setdefault(drop.section or "engine", [])
        items.extend((None, c) for c in comments)
        items.append((None, _dropped_note(drop, original)))
    if orphans:
        first = next(iter(additions), "engine")
        additions.setdefault(first, []).extend((None, c) for c in orphans)
    _place(home, fragments[0], sections, additions)
    return MigrationResult(text=doc.as_string(), changed=True, mapping=mapping)


def _comment_groups(
    legacy: AbstractTable,
) -> tuple[dict[str, tuple[list[Comment], Item]], list[Comment]]:
    """Each legacy key with the comment lines written above it (blank lines do not detach)."""
    groups: dict[str, tuple[list[Comment], Item]] = {}
    pending: list[Comment] = []
    for key, item in legacy.value.body:
        if key is None:
            if isinstance(item, Comment):
                pending.append(item)
            continue
        groups[key.key] = (pending, item)
        pending = []
    return groups, pending


def _converted_item(original: Item, value: object) -> Item:
    """Keep the user's own item (formatting, inline comment) unless the value changed."""
    if original.unwrap() == value and type(original.unwrap()) is type(value):
        return original
    item = tomlkit.item(value)
    if not isinstance(original, AbstractTable):
        item.trivia.comment_ws = original.trivia.comment_ws
        item.trivia.comment = original.trivia.comment
    return item


def _inline(value: object) -> str:
    """One-line TOML text of a value (tables become inline tables)."""
    if isinstance(value, Mapping):
        table = tomlkit.inline_table()
        for key, item in value.items():
            table[key] = tomlkit.item(item)
        return table.as_string()
    return tomlkit.item(value).as_string()


def _dropped_note(drop: Dropped, original: Item) -> Comment:
    value = _inline(drop.value)
    inline = "" if isinstance(original, AbstractTable) else original.trivia.comment
    suffix = f" {inline}" if inline else ""
    text = f"[hamilton].{drop.source_key} = {value} (removed by migrate: {drop.reason}){suffix}"
    return tomlkit.comment(" ".join(text.split()))


def _append_before_blank_lines(
    section: AbstractTable, items: list[tuple[str | None, Item]]
) -> None:
    """Append to a section, keeping the blank lines that separate it from the next one."""
    body = section.value.body
    trailing: list[Whitespace] = []
    # Whitespace rows are not indexed by key, so taking them off the end of the body is safe.
    while body and body[-1][0] is None and isinstance(body[-1][1], Whitespace):
        ws = body.pop()[1]
        assert isinstance(ws, Whitespace)
        trailing.insert(0, ws)
    for key, item in items:
        section.value.append(key, item)
    for ws in trailing:
        section.value.append(None, ws)


def _place(
    container: Container,
    legacy: AbstractTable,
    sections: Mapping[str, AbstractTable],
    additions: Mapping[str, list[tuple[str | None, Item]]],
) -> None:
    """Append to existing sections; new sections take the place of ``[hamilton]``."""
    new: list[tuple[str, Table]] = []
    for name in ("engine", "extract"):
        items = additions.get(name)
        if not items:
            continue
        if name in sections:
            _append_before_blank_lines(sections[name], items)
            continue
        table = tomlkit.table()
        for key, item in items:
            table.value.append(key, item)
        new.append((name, table))
    in_place = isinstance(legacy, Table) and not legacy.is_super_table()
    if not new or not in_place:
        container.remove(LEGACY_SECTION)
        for name, table in new:
            container.append(name, table)
        return
    # Blank lines between the new sections; the last one ends as [hamilton] ended.
    body = legacy.value.body
    trailing = body[-1][1] if body and isinstance(body[-1][1], Whitespace) else None
    for index, (_, table) in enumerate(new):
        last = index == len(new) - 1
        if not last or trailing is not None:
            table.value.append(None, Whitespace(trailing.s if last and trailing else "\n"))
    # tomlkit 0.15 (pinned) has no public "insert at a position"; its private helpers keep
    # the user's section order, which is the point of using tomlkit at all.
    first, rest = new[0], new[1:]
    container._replace(LEGACY_SECTION, first[0], first[1])
    previous = first[0]
    for name, table in rest:
        container._insert_after(previous, name, table)
        previous = name


class MigrationOutcome(msgspec.Struct, frozen=True, kw_only=True):
    """What ``migrate_file`` did: ``status`` is nothing | migrated | dry_run | invalid."""

    status: str
    file: str | None
    diff: str = ""
    mapping: HamiltonMapping | None = None
    problems: tuple[str, ...] = ()


def migrate_file(path: Path, *, dry_run: bool = False) -> MigrationOutcome:
    """Migrate one configuration file in place (atomically); never writes an invalid file.

    Raises ``ConfigError`` when the file is not valid TOML. ``status`` is ``invalid`` (and
    nothing is written) when the migrated configuration would not load.
    """
    pyproject = path.name == PYPROJECT_FILENAME
    text = path.read_text(encoding="utf-8")
    try:
        result = migrate_text(text, pyproject=pyproject)
    except ParseError:
        load_text(text, file=path, root=path.parent, pyproject=pyproject, env={})
        raise  # load_text raised a located ConfigError above; this line is a safety net
    if not result.changed:
        return MigrationOutcome(status="nothing", file=str(path))
    diff = "".join(
        difflib.unified_diff(
            text.splitlines(keepends=True),
            result.text.splitlines(keepends=True),
            fromfile=f"a/{path.name}",
            tofile=f"b/{path.name}",
        )
    )
    try:
        load_text(result.text, file=path, root=path.parent, pyproject=pyproject, env={})
    except ConfigError as exc:
        problems = tuple(str(p) for p in exc.problems)
        return MigrationOutcome(
            status="invalid", file=str(path), diff=diff, mapping=result.mapping, problems=problems
        )
    if not dry_run:
        write_text_atomic(path, result.text)
    status = "dry_run" if dry_run else "migrated"
    return MigrationOutcome(status=status, file=str(path), diff=diff, mapping=result.mapping)
