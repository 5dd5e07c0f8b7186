"""Decodes a SCIP index (protobuf) into rows of the contract's ``scip`` table.

Three kinds of row (every column not named is null):

- ``occurrence``: one per occurrence of a scanned document; ``ordinal`` is its index among
  that document's occurrences sorted by (bstart, bend, symbol, roles); span columns are the
  SCIP range (0-based lines, UTF-16 columns) converted to canonical byte offsets.
- ``symbol``: one per SymbolInformation; ``path`` is the defining document, null for the
  index's external symbols; ``ordinal`` counts within that path in symbol order.
- ``relationship``: one per Relationship of a SymbolInformation; ``path`` and span null;
  ``ordinal`` counts over all relationship rows in (symbol, related_symbol, flags) order.

Every symbol is normalized with :func:`backends.contract.ids.normalize_scip_symbol`. Rows
are sorted, so the output does not depend on the order the indexer wrote its documents in.
"""

from __future__ import annotations

import bisect
import functools
import json
import re
from collections.abc import Collection, Iterable, Mapping
from typing import Any

import msgspec
import pyarrow as pa
from google.protobuf.message import DecodeError

from backends.contract import schemas
from backends.contract.ids import normalize_scip_symbol
from backends.extract.result import FileWarning
from backends.extract.scip import scip_pb2
from backends.extract.scip.merge import FilePart, SymbolPart, assemble
from backends.extract.scip.shard import walk_key, walk_order
from backends.extract.source import LineIndex

DOC_MAX_CHARS = 2000
_DEFINITION = 1  # SymbolRole.Definition
_RELATIONSHIP_FLAGS = ("is_definition", "is_implementation", "is_reference", "is_type_definition")
_NULL_ROW: dict[str, Any] = dict.fromkeys(schemas.SCIP.names)


class IndexDecodeError(Exception):
    """The bytes are not a SCIP index."""


class Decoded(msgspec.Struct, frozen=True, kw_only=True):
    """Rows of the ``scip`` table and (path, warning) pairs, both in deterministic order."""

    rows: list[dict[str, Any]]
    warnings: list[tuple[str, FileWarning]]


def _detail(obj: Mapping[str, Any]) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _row(kind: str, **values: Any) -> dict[str, Any]:
    row = dict(_NULL_ROW)
    row["kind"] = kind
    row.update(values)
    return row


def parse_index(data: bytes) -> scip_pb2.Index:
    """Parse serialized ``scip.Index`` bytes; IndexDecodeError when they are not one."""
    index = scip_pb2.Index()
    try:
        index.ParseFromString(data)
    except DecodeError as exc:
        raise IndexDecodeError(str(exc)) from exc
    return index


# Symbols repeat across a repository's occurrences: normalize each once.
_normalize = functools.lru_cache(maxsize=1 << 16)(normalize_scip_symbol)


class _Columns:
    """``LineIndex.from_utf16_col`` with its result for ASCII lines (most lines) computed
    without walking the line: there a UTF-16 column is a byte column, capped at the line's
    end as the walk caps it."""

    def __init__(self, lines: LineIndex) -> None:
        self.lines = lines
        self.ascii: dict[int, tuple[int, int] | None] = {}  # line -> (byte start, length)

    def from_utf16_col(self, line0: int, col: int) -> int:
        if line0 not in self.ascii:
            start = self.lines.from_utf8_col(line0 + 1, 0)  # ValueError out of range, as below
            text = self.lines.line_text(line0 + 1)
            self.ascii[line0] = (start, len(text)) if text.isascii() else None
        known = self.ascii[line0]
        if known is None:
            return self.lines.from_utf16_col(line0, col)
        return known[0] + min(col, known[1])


def byte_range(lines: LineIndex | _Columns, rng: Iterable[int]) -> tuple[int, int] | None:
    """Canonical [bstart, bend) of a SCIP range, or None when it does not fit the text.

    A range is [startLine, startChar, endLine, endChar] or, on one line,
    [line, startChar, endChar]; lines 0-based, characters in UTF-16 code units.
    """
    r = list(rng)
    if len(r) == 3:
        start_line, start_col, end_line, end_col = r[0], r[1], r[0], r[2]
    elif len(r) == 4:
        start_line, start_col, end_line, end_col = r
    else:
        return None
    if min(start_line, start_col, end_line, end_col) < 0:
        return None
    try:
        bstart = lines.from_utf16_col(start_line, start_col)
        bend = lines.from_utf16_col(end_line, end_col)
    except ValueError:
        return None
    return (bstart, bend) if bstart <= bend else None


_SPAN = ("bstart", "bend", "line", "col", "end_line", "end_col")


def _occurrence_table(
    path: str, doc: scip_pb2.Document, lines: LineIndex
) -> tuple[pa.Table, list[FileWarning]]:
    """The occurrence rows of one document as an Arrow table of the contract schema, built
    column by column (no Python row per occurrence: a repository has hundreds of thousands)."""
    keyed: list[tuple[tuple[int, int, int, str, int], str, int, tuple[int, ...] | None]] = []
    warnings: list[FileWarning] = []
    columns = _Columns(lines)
    for occ in doc.occurrences:
        symbol = _normalize(occ.symbol)
        roles = int(occ.symbol_roles)
        rng = byte_range(columns, occ.range)
        if rng is None:
            warnings.append(
                FileWarning(
                    code="EXTRACT_SPAN_UNMAPPED",
                    message="scip range does not fit the file's text",
                    detail=_detail({"range": list(occ.range), "symbol": symbol}),
                )
            )
            keyed.append(((1, 0, 0, symbol, roles), symbol, roles, None))  # unmapped: last
        else:
            line, col = lines.position(rng[0])
            end_line, end_col = lines.position(rng[1])
            span = (rng[0], rng[1], line, col, end_line, end_col)
            keyed.append(((0, rng[0], rng[1], symbol, roles), symbol, roles, span))
    keyed.sort(key=lambda k: k[0])
    n = len(keyed)
    values: dict[str, list[Any]] = {
        "kind": ["occurrence"] * n,
        "path": [path] * n,
        "ordinal": list(range(n)),
        "symbol": [k[1] for k in keyed],
        "roles": [k[2] for k in keyed],
        "is_definition": [bool(k[2] & _DEFINITION) for k in keyed],
    }
    for i, name in enumerate(_SPAN):
        values[name] = [None if k[3] is None else k[3][i] for k in keyed]
    arrays = [
        pa.array(values[f.name], f.type) if f.name in values else pa.nulls(n, f.type)
        for f in schemas.SCIP
    ]
    return pa.Table.from_arrays(arrays, schema=schemas.SCIP), warnings


def _symbol_row(path: str | None, info: scip_pb2.SymbolInformation) -> dict[str, Any]:
    kind = scip_pb2.SymbolInformation.Kind.Name(info.kind) if info.kind else None
    return _row(
        "symbol",
        path=path,
        symbol=_normalize(info.symbol),
        symbol_kind=kind,
        display_name=info.display_name or None,
        enclosing_symbol=_normalize(info.enclosing_symbol) if info.enclosing_symbol else None,
        documentation=info.documentation[0][:DOC_MAX_CHARS] if info.documentation else None,
    )


def _relationship_rows(info: scip_pb2.SymbolInformation) -> list[dict[str, Any]]:
    symbol = _normalize(info.symbol)
    return [
        _row(
            "relationship",
            symbol=symbol,
            related_symbol=_normalize(rel.symbol),
            relationship=",".join(f for f in _RELATIONSHIP_FLAGS if getattr(rel, f)),
        )
        for rel in info.relationships
    ]


def _symbol_part(path: str | None, info: scip_pb2.SymbolInformation) -> SymbolPart:
    return SymbolPart(
        raw=info.symbol, row=_symbol_row(path, info), relationships=_relationship_rows(info)
    )


# What scip-python's hover names: "(function) def len(", "(method)\ndef format(",
# "(variable) release: ...", "(class) Foo", "(module) sys".
_DESCRIPTOR_NAME = re.compile(r"[\w$]+")
_HOVER_NAME = re.compile(r"\((?:[\w ]+)\)\s+(?:async def |def |class )?([\w.]+)")


def _hover_name(info: scip_pb2.SymbolInformation) -> str | None:
    match = _HOVER_NAME.search(info.documentation[0]) if info.documentation else None
    return match.group(1).rsplit(".", 1)[-1] if match else None


class _Emitters:
    """Which target files an external symbol is attributed to.

    scip-python keeps one entry per external symbol, from its first emitter, and does not
    say which document that was. The documents of an index come in the order it visited
    them (its targets, then the project files they import, whose documents are another
    run's). A global external symbol is attributed to every target document with an
    occurrence of it (any of them can be the first emitter, and each keeps it when the
    others change), or, when none has one (scip-python also emits the parents of the
    symbols it builds: ``sys/`` for ``sys/argv.``), to every target document with an
    occurrence of a symbol it is a prefix of (only those of the symbol its hover names, when
    there are such). The first of them in visit order is taken as its emitter (``own``). A
    ``local N`` one (a symbol scip-python numbers per document, listed as external when it
    stands for, say, a builtin function) goes to its emitter: the first document visited
    whose ``local N`` covers the name its hover documents, else (the emitter's node has no
    occurrence) to every target that has ``local N``. A symbol only other runs' documents
    account for is left to them; one no document accounts for goes to the first target.
    """

    def __init__(
        self,
        visited: list[tuple[str, scip_pb2.Document]],
        targets: list[str],
        texts: Mapping[str, str],
    ) -> None:
        self.targets = set(targets)
        self.seen: dict[str, list[str]] = {}
        # local N -> [(path, the names it covers there, used there without being defined)]
        self.locals: dict[str, list[tuple[str, set[str], bool]]] = {}
        for path, doc in visited:
            defined = {o.symbol for o in doc.occurrences if o.symbol_roles & _DEFINITION}
            columns: _Columns | None = None
            data = b""
            names: dict[str, set[str]] = {}
            for occ in doc.occurrences:
                paths = self.seen.setdefault(occ.symbol, [])
                if not paths or paths[-1] != path:
                    paths.append(path)
                if occ.symbol.startswith("local "):
                    if columns is None:
                        columns = _Columns(LineIndex(texts[path]))
                        data = texts[path].encode("utf-8")
                    rng = byte_range(columns, occ.range)
                    name = data[rng[0] : rng[1]].decode("utf-8", "replace") if rng else ""
                    names.setdefault(occ.symbol, set()).add(name)
            for symbol, covered in names.items():
                entry = (path, covered, symbol not in defined)
                self.locals.setdefault(symbol, []).append(entry)
        self.symbols = sorted(self.seen)
        self.first = next((p for p, _ in visited if p in self.targets), None)
        if self.first is None and targets:
            self.first = targets[0]

    def __call__(self, info: scip_pb2.SymbolInformation) -> list[str]:
        symbol = info.symbol
        if symbol.startswith("local "):
            users = self.locals.get(symbol, [])
            name = _hover_name(info)
            emitter = next((p for p, names, _ in users if name in names), None)
            if emitter is not None:
                return [emitter] if emitter in self.targets else []
            if not users:
                return self._first()
            # The emitter is not to be found (its node has no occurrence): every target that
            # has the symbol keeps it, so that it survives a change to any one of them.
            return sorted((p for p, _, _ in users if p in self.targets), key=walk_key)
        paths = self.seen.get(symbol)
        if not paths:
            # A parent: the documents with an occurrence of a symbol below it, and among them
            # those of the symbol its hover names (``typing/`` documented "(class) Callable"
            # comes from a document that reaches ``typing/Callable.``, not from one that uses
            # ``typing/Iterator#``), when there are such.
            name = _hover_name(info)
            found: set[str] = set()
            named: set[str] = set()
            i = bisect.bisect_left(self.symbols, symbol)
            while i < len(self.symbols) and self.symbols[i].startswith(symbol):
                below = self.symbols[i]
                found.update(self.seen[below])
                head = _DESCRIPTOR_NAME.match(below, len(symbol))
                if name is not None and head is not None and head.group(0) == name:
                    named.update(self.seen[below])
                i += 1
            paths = sorted(named or found, key=walk_key)
        if not paths:
            return self._first()
        return [p for p in paths if p in self.targets]

    def _first(self) -> list[str]:
        return [self.first] if self.first is not None else []


class Parts(msgspec.Struct, frozen=True, kw_only=True):
    """An index cut into one part per target file, and its index-level warnings."""

    parts: dict[str, FilePart]
    warnings: list[tuple[str, FileWarning]]


def decode_parts(
    data: bytes, texts: Mapping[str, str], targets: Collection[str] | None = None
) -> Parts:
    """One part per target file (every file of ``texts`` when ``targets`` is None; empty for
    a file without a document).

    A document whose path is not in ``texts`` is skipped with SCIP_DOCUMENT_SKIPPED; one of
    a file in ``texts`` but not in ``targets`` (a file a target imports) is left out without
    a word: it belongs to another run. Raises IndexDecodeError when ``data`` is not an index.
    External symbols are attributed to files by :class:`_Emitters`.
    """
    index = parse_index(data)
    wanted = walk_order(set(texts) if targets is None else set(targets) & set(texts))
    warnings: list[tuple[str, FileWarning]] = []
    docs: dict[str, scip_pb2.Document] = {}
    visited: list[tuple[str, scip_pb2.Document]] = []  # documents of scanned files, in order
    for doc in index.documents:
        path = doc.relative_path
        if path not in texts:
            warnings.append(
                (
                    path,
                    FileWarning(
                        code="SCIP_DOCUMENT_SKIPPED",
                        message="scip document is not a scanned Python file",
                        detail=_detail({"relative_path": path}),
                    ),
                )
            )
        else:
            visited.append((path, doc))
            if targets is None or path in targets:
                docs.setdefault(path, doc)
    externals: dict[str, list[SymbolPart]] = {p: [] for p in wanted}
    emitters = _Emitters(visited, wanted, texts)
    for info in index.external_symbols:
        # The first candidate in visit order (targets are visited in walk order) is taken as
        # the emitter: its documentation is its own; the others only carry it.
        for n, path in enumerate(emitters(info)):
            part = _symbol_part(None, info)
            externals[path].append(part if n == 0 else msgspec.structs.replace(part, own=False))
    parts: dict[str, FilePart] = {}
    for path in wanted:
        found = docs.get(path)
        if found is None:
            parts[path] = FilePart(
                path=path,
                occurrences=schemas.SCIP.empty_table(),
                symbols=[],
                externals=externals[path],
                warnings=[],
            )
            continue
        occurrences, occ_warnings = _occurrence_table(path, found, LineIndex(texts[path]))
        parts[path] = FilePart(
            path=path,
            occurrences=occurrences,
            symbols=[_symbol_part(path, info) for info in found.symbols],
            externals=externals[path],
            warnings=occ_warnings,
        )
    return Parts(parts=parts, warnings=warnings)


def decode_index(data: bytes, texts: Mapping[str, str]) -> Decoded:
    """Rows of the ``scip`` table for an index of the files in ``texts`` (path -> text).

    Documents whose path is not in ``texts`` are skipped with SCIP_DOCUMENT_SKIPPED.
    Raises IndexDecodeError when ``data`` is not a SCIP index.
    """
    decoded = decode_parts(data, texts)
    rows, part_warnings = assemble(decoded.parts.values())
    warnings = [*decoded.warnings, *part_warnings]
    warnings.sort(key=lambda pw: (pw[0], pw[1].code, pw[1].detail or "", pw[1].message))
    return Decoded(rows=rows, warnings=warnings)
