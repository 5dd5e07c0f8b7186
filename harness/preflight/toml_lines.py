"""Line and column of a key or a string value in TOML text.

``tomllib`` gives values without positions, so a blocker found in the parsed document is
located again in the text: the table header of its key path (``[a.b]`` or ``[[a.b]]``), then
the first line at or after it that holds the key or the quoted value. Columns are 0-based
UTF-8 byte columns, as for Python files.
"""

from __future__ import annotations

import re

_HEADER = re.compile(r"^\s*\[\[?(?P<key>[^\[\]]+)\]\]?\s*(?:#.*)?$")


def split_key(dotted: str) -> tuple[str, ...]:
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


def _byte_col(line: str, index: int) -> int:
    return len(line[:index].encode("utf-8"))


class TomlLines:
    """A TOML document's lines with its table headers, for locating parsed values."""

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()
        self.headers: list[tuple[int, tuple[str, ...]]] = []
        for i, line in enumerate(self.lines):
            match = _HEADER.match(line)
            if match is not None:
                self.headers.append((i, split_key(match.group("key"))))

    def _table_start(self, keys: tuple[str, ...]) -> int:
        """0-based index of the header of the longest table that is a prefix of ``keys``."""
        best, best_len = 0, -1
        for index, header in self.headers:
            if keys[: len(header)] == header and len(header) > best_len:
                best, best_len = index, len(header)
        return best

    def key(self, keys: tuple[str, ...]) -> tuple[int, int]:
        """(1-based line, col) where the table or key ``keys`` is defined."""
        for index, header in self.headers:
            if header == keys:
                return index + 1, _byte_col(self.lines[index], self.lines[index].index("["))
        start = self._table_start(keys)
        pattern = re.compile(rf"^\s*[\"']?{re.escape(keys[-1])}[\"']?\s*[.=]")
        for index in range(start, len(self.lines)):
            match = pattern.match(self.lines[index])
            if match is not None:
                col = len(self.lines[index]) - len(self.lines[index].lstrip())
                return index + 1, _byte_col(self.lines[index], col)
        return start + 1, 0

    def value(self, keys: tuple[str, ...], value: str) -> tuple[int, int]:
        """(1-based line, col of the opening quote) of the string ``value`` under ``keys``."""
        needles = [f'"{value}"', f"'{value}'", value]
        start = self._table_start(keys)
        for first in (start, 0):
            for index in range(first, len(self.lines)):
                line = self.lines[index]
                for needle in needles:
                    at = line.find(needle)
                    if at >= 0:
                        return index + 1, _byte_col(line, at)
        return start + 1, 0
