"""Line numbers of keys and sections in TOML text, found with tomlkit.

tomlkit keeps every byte of the text but records no positions. To find the line of a value
we replace just that value with a unique marker, render the document (everything before the
marker is byte-identical) and count the newlines before the marker. Sections are found by
their ``[a.b]`` header; a section with no header (dotted keys, inline table) falls back to the
marker. One parse per key: configuration files are small and lines are only needed for error
messages and ``config show``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import tomlkit
from tomlkit.exceptions import TOMLKitError
from tomlkit.items import AbstractTable

_MARKER = "__codeanatomy_locate_3f9c1e__"


def locate_lines(text: str, paths: Iterable[tuple[str, ...]]) -> dict[tuple[str, ...], int]:
    """The 1-based line of each path that exists in ``text`` (missing paths are left out)."""
    found: dict[tuple[str, ...], int] = {}
    for path in paths:
        if not path:
            continue
        line = _header_line(text, path) or _marker_line(text, path)
        if line is not None:
            found[path] = line
    return found


def _header_line(text: str, path: tuple[str, ...]) -> int | None:
    try:
        target = _lookup(tomlkit.parse(text), path)
    except (KeyError, TypeError, TOMLKitError):
        return None
    if not isinstance(target, AbstractTable):
        return None
    parts = [rf"""(?:{re.escape(p)}|"{re.escape(p)}"|'{re.escape(p)}')""" for p in path]
    header = re.compile(
        r"^[ \t]*\[[ \t]*" + r"[ \t]*\.[ \t]*".join(parts) + r"[ \t]*\]", re.MULTILINE
    )
    match = header.search(text)
    return text.count("\n", 0, match.start()) + 1 if match else None


def _marker_line(text: str, path: tuple[str, ...]) -> int | None:
    try:
        doc = tomlkit.parse(text)
        parent = _lookup(doc, path[:-1])
        if not isinstance(parent, dict) or path[-1] not in parent:
            return None
        parent[path[-1]] = _MARKER
        rendered = doc.as_string()
    except (KeyError, TypeError, TOMLKitError):
        return None
    position = rendered.find(_MARKER)
    return rendered.count("\n", 0, position) + 1 if position >= 0 else None


def _lookup(doc: object, path: tuple[str, ...]) -> object:
    node = doc
    for part in path:
        if not isinstance(node, dict):
            raise KeyError(part)
        node = node[part]
    return node
