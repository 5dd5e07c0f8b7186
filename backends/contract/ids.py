"""Stable IDs (CONTRACT.md §4): derived from content only, identical across backends and runs.

    id = hex(sha256(utf8("cpg1" + US + kind + US + f1 + US + f2 ...)))[:32]

where US is the unit separator U+001F, every field is a string (integers in base-10 ASCII,
null as the empty string) and the result is the first 16 bytes of the digest as 32 lowercase
hex characters. The Rust engine implements the same function; shared test vectors pin it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

ID_PREFIX = "cpg1"
_US = "\x1f"


def _field(value: str | int | None) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):  # bool is an int; never let True become "1" by accident
        raise TypeError("booleans are not ID fields")
    return str(value)


def stable_id(kind: str, fields: Iterable[str | int | None]) -> str:
    """The stable ID of an entity of ``kind`` identified by ``fields`` (in contract order)."""
    text = _US.join([ID_PREFIX, kind, *(_field(f) for f in fields)])
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def span_node_id(kind: str, path: str, bstart: int, bend: int) -> str:
    """ID of a node that is a span of a file (FILE, MODULE, CLASS, FUNCTION, CALLSITE, ...)."""
    return stable_id(kind, (path, bstart, bend))


def edge_id(kind: str, src_id: str, dst_id: str) -> str:
    """ID of an edge: its kind and its two endpoint IDs."""
    return stable_id(kind, (src_id, dst_id))


def normalize_scip_symbol(symbol: str) -> str:
    """Replace the version field of a SCIP symbol with ``.`` so IDs survive re-versioning.

    A global SCIP symbol is ``<scheme> <manager> <package> <version> <descriptors>`` with
    single spaces (a literal space is escaped as two). Local symbols (``local N``) are returned
    unchanged. See CONTRACT.md §4.
    """
    if symbol.startswith("local "):
        return symbol
    parts: list[str] = []
    i = 0
    current: list[str] = []
    while i < len(symbol) and len(parts) < 4:
        ch = symbol[i]
        if ch == " ":
            if i + 1 < len(symbol) and symbol[i + 1] == " ":
                current.append(" ")
                i += 2
                continue
            parts.append("".join(current))
            current = []
            i += 1
            continue
        current.append(ch)
        i += 1
    if len(parts) < 4:
        return symbol
    rest = symbol[i:]
    scheme, manager, package, _version = parts
    esc = [p.replace(" ", "  ") for p in (scheme, manager, package)]
    return " ".join([*esc, ".", rest])
