"""Where a key, a table or a string value is in TOML text: 1-based line and 0-based UTF-8 byte
column (CONTRACT §3), for configuration errors, ``config show`` and preflight blockers.

``tomllib`` and tomlkit give values without positions; tomlkit keeps every byte of the text.
A table with a ``[a.b]`` / ``[[a.b]]`` header is found by its header (one scan of the text). Any
other place is found with markers: the values looked up are replaced by unique strings in one
tomlkit document, rendered once (the text before each replaced value is byte-identical), and
each marker's line is read off the rendering, less the line breaks of the values replaced
before it; the column is read off the original line. A table of dotted keys without a header
is where its first key is (replaced whole, tomlkit would render it elsewhere). A place inside
another place of the same batch (a value of an inline table looked up with the table) is
replaced on its own, one parse each: there are at most a few.

Nothing here raises on text tomlkit cannot read (or nests too deeply): that place is None.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import tomlkit
from tomlkit.exceptions import TOMLKitError
from tomlkit.items import AoT, InlineTable

Keys = tuple[str, ...]
Position = tuple[int, int]
Lookup = tuple[Keys, str | None]
"""A key path, and the string value to find under it (None: the key or table itself)."""

_MARKER = "__codeanatomy_locate_3f9c1e_{}__"
_MARKERS = re.compile(r"__codeanatomy_locate_3f9c1e_\d+__")
_HEADER = re.compile(r"^[ \t]*\[\[?(?P<key>[^\[\]\n]+)\]\]?[ \t\r]*(?:#.*)?$", re.MULTILINE)
# What tomlkit may raise on a document tomllib read: the place is then unknown.
_UNREADABLE = (KeyError, TypeError, ValueError, TOMLKitError, RecursionError)


def split_key(dotted: str) -> Keys:
    """Split a TOML dotted key, honouring quoted parts (``tool."my.pkg".x``)."""
    parts: list[str] = []
    current = ""
    quote = ""
    for ch in dotted:
        if quote:
            if ch == quote:
                quote = ""
            else:
                current += ch
        elif ch in "\"'":
            quote = ch
        elif ch == ".":
            parts.append(current.strip())
            current = ""
        else:
            current += ch
    parts.append(current.strip())
    return tuple(parts)


def locate_lines(text: str, paths: Iterable[Keys]) -> dict[Keys, int]:
    """The 1-based line of each key path that exists in ``text`` (missing paths are left out)."""
    wanted = [p for p in dict.fromkeys(paths) if p]
    found = locate(text, [(p, None) for p in wanted])
    return {p: at[0] for p, at in zip(wanted, found, strict=True) if at is not None}


def locate(text: str, lookups: Sequence[Lookup]) -> list[Position | None]:
    """(line, byte column) of each lookup, in order; None where it is not in ``text``."""
    lines = text.split("\n")  # as the line numbers count them (splitlines splits on more)
    headers = _headers(text)
    found: list[Position | None] = [None] * len(lookups)
    try:
        doc = tomlkit.parse(text)
    except _UNREADABLE:
        return found
    places: dict[int, Lookup] = {}
    for index, (keys, value) in enumerate(lookups):
        try:
            if value is not None:
                if any(_string_slot(c, k, value) for c, k in _slots(doc, keys)):
                    places[index] = (keys, value)
                continue
            anchor = _anchor(doc, keys, headers)
        except _UNREADABLE:
            continue
        if isinstance(anchor, _Header):
            found[index] = anchor.at
        elif anchor is not None:
            places[index] = (anchor, None)
    _locate_batch(text, lines, places, found)
    for index in [i for i in places if found[i] is None]:
        # Inside another place replaced in the batch (a value in an inline table looked up
        # with the table): alone.
        _locate_batch(text, lines, {index: places[index]}, found)
    return found


@dataclass(frozen=True)
class _Header:
    at: Position


def _anchor(doc: Any, keys: Keys, headers: dict[Keys, Position]) -> _Header | Keys | None:
    """Where the key or table ``keys`` is: its header, or the first place inside it that a
    marker can replace where it stands (a table of dotted keys moves when replaced whole)."""
    while (slot := _first(_slots(doc, keys))) is not None:
        item = slot[0][slot[1]]
        if not isinstance(item, dict | AoT) or isinstance(item, InlineTable):
            return keys
        if keys in headers:
            return _Header(headers[keys])
        first = next(iter(item), None) if isinstance(item, dict) else None
        if first is None:
            return keys
        keys = (*keys, first)
    return None


def _headers(text: str) -> dict[Keys, Position]:
    """The first ``[a.b]`` or ``[[a.b]]`` header of each table."""
    headers: dict[Keys, Position] = {}
    line, counted = 1, 0
    for match in _HEADER.finditer(text):
        line += text.count("\n", counted, match.start())
        counted = match.start()
        bracket = text.index("[", match.start())
        column = len(text[match.start() : bracket].encode("utf-8"))
        headers.setdefault(split_key(match.group("key")), (line, column))
    return headers


def _slots(node: Any, keys: Keys) -> Iterator[tuple[Any, Any]]:
    """(container, key) of every place ``keys`` reaches; arrays of tables are entered."""
    if isinstance(node, list):
        for item in node:
            yield from _slots(item, keys)
    elif isinstance(node, dict) and keys and keys[0] in node:
        if len(keys) == 1:
            yield node, keys[0]
        else:
            yield from _slots(node[keys[0]], keys[1:])


def _first(slots: Iterator[tuple[Any, Any]]) -> tuple[Any, Any] | None:
    try:
        return next(slots)
    except _UNREADABLE:
        return None
    except StopIteration:
        return None


def _string_slot(container: Any, key: Any, value: str) -> tuple[Any, Any] | None:
    """The first place at or below ``container[key]`` holding the string ``value``."""
    item = container[key]
    if isinstance(item, str):
        return (container, key) if item == value else None
    if isinstance(item, list) and not isinstance(item, AoT):
        for index in range(len(item)):
            slot = _string_slot(item, index, value)
            if slot is not None:
                return slot
    return None


def _byte_col(line: str, index: int) -> int:
    return len(line[:index].encode("utf-8"))


def _column(lines: list[str], line: int, value: str | None) -> int:
    """The column of ``value``'s opening quote on ``line``, or of the key that starts it."""
    if not 0 < line <= len(lines):
        return 0
    text = lines[line - 1]
    if value is not None:
        for needle in (f'"{value}"', f"'{value}'"):
            at = text.find(needle)
            if at >= 0:
                return _byte_col(text, at)
    return _byte_col(text, len(text) - len(text.lstrip()))


def _locate_batch(
    text: str, lines: list[str], places: Mapping[int, Lookup], found: list[Position | None]
) -> None:
    """Replace every place by its own marker in one document, render it once."""
    if not places:
        return
    try:
        doc = tomlkit.parse(text)
    except _UNREADABLE:
        return
    breaks: dict[str, int] = {}  # marker -> line breaks of the value it replaced
    owner: dict[str, int] = {}
    for index, (keys, value) in places.items():
        try:
            for container, key in _slots(doc, keys):
                slot = (container, key) if value is None else _string_slot(container, key, value)
                if slot is not None:
                    break
            else:
                continue
            marker = _MARKER.format(index)
            # tomlkit hands booleans out as plain bool: one line, like every scalar but a
            # multi-line string.
            render = getattr(slot[0][slot[1]], "as_string", None)
            breaks[marker] = render().count("\n") if callable(render) else 0
            slot[0][slot[1]] = marker
        except _UNREADABLE:
            continue
        owner[marker] = index
    try:
        rendered = doc.as_string()
    except _UNREADABLE:
        return
    line, counted, removed = 1, 0, 0
    for match in _MARKERS.finditer(rendered):
        marker = match.group()
        if marker not in owner:
            continue
        line += rendered.count("\n", counted, match.start())
        counted = match.start()
        index = owner.pop(marker)
        found[index] = (line + removed, _column(lines, line + removed, places[index][1]))
        removed += breaks[marker]
