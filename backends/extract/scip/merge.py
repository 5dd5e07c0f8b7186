"""Per-file pieces of a SCIP index and their assembly into the rows of the ``scip`` table.

An index is cut into one :class:`FilePart` per document: its occurrence rows (numbered
within the file), its SymbolInformation rows with their relationships, and the external
symbols attributed to it. Parts are what the shards produce and what the per-file cache
stores; :func:`assemble` turns any set of parts into the table's rows:

- symbol rows of each file are numbered within the file; external symbol rows (null path)
  and relationship rows are numbered over the whole table, as one index would be;
- a global symbol whose SymbolInformation two files carry keeps the one of the file that
  comes first in walk order (``shard.walk_key``), with its relationships;
- an external symbol (by its raw symbol string) keeps the candidate of the file that comes
  first in walk order.

The result does not depend on the order the parts are given in. For one whole-repository
index it is exactly the old single-run decoding (one copy of everything).

What sharding and the cache can change, and why. scip-python's output depends on the order
it visits documents in, through state it shares between them: (1) a global symbol's
SymbolInformation is written into the first document that creates the symbol, and a symbol
first created at an import site gets none at all; (2) an external symbol keeps the
documentation of its first emitter; (3) a memo keyed by declaration can hand a reference
the symbol another document computed for the same declaration. A whole run visits files in
walk order; a shard is a contiguous run of that order, the merge keeps the earlier file's
copy of anything two shards emitted, so the merged rows are the whole run's unless the
first document to touch a symbol and the document that defines it fall into different runs
(two shards, or a cached part and a fresh one). Then, and only then:

- a ``symbol`` row (and its ``relationship`` rows) of a global symbol may be present in the
  document that defines the symbol on one side only (the side where the definer was
  visited before any document importing the symbol);
- rarely, the symbol of a reference ``occurrence`` differs (3), and with it an external
  symbol row that only such an occurrence brings.

Warnings, and every other row, are identical. Measured with 2 and 3 shards: no difference on
8 of the 9 golden repos; on ``packages`` one extra row (the SymbolInformation of ``Item#``
in ``models/item.py``, which the whole run never emits because ``core/engine.py``, in the
other shard, imports the class first). With 2 shards on the pinned sdists: attrs none; click
29 of 24,011 occurrence symbols (3); requests 4 of 13,320; on 75 standard-library files 2 of
59,988 (and the external ``builtins/Mapping#`` one of them brings); on a generated 300-file
repo none. By default a repository is not split below 50 files per shard
(``shard.MIN_FILES_PER_SHARD``), so the golden repos run as one shard and their rows are
those of the single run, byte for byte.

A rebuild from the per-file cache mixes parts indexed in different company, so it shows the
same two kinds, plus a third: (2) an external ``local N`` row (a symbol scip-python numbers
per document and still lists as index-level, documented by whichever document emitted it
first) can differ, because its emitter is not always in the rebuild and not always
recognisable (``decode._Emitters``). Measured against a cold build of the changed repo:
identical rows after every one of 4 random one-file edits on 6 golden repos and on the
generated 300-file repo, and after serving a random half of the cache on a 232-file repo;
on the 75 standard-library files, 22 to 47 of about 500 external ``local N`` rows, 3
external rows of global symbols and 4 occurrence symbols (3) differ.

An external symbol row is its first emitter's (2), and a cached part's candidate carries the
emitter of the run that indexed it: when that emitter is gone or changed (golden ``scopes``,
``closures.py`` deleted: ``builtins/sum()`` kept closures.py's documentation and ``typing/``
stayed, which no other file emits), the first candidate left would speak for another file.
Each candidate therefore says whether it is its run's emitter (``SymbolPart.own``), and a
rebuild indexes again a cached file that is the first to carry a symbol it did not emit
(:func:`foreign_externals`, in ``stage.Job.join``): it then emits its own row, or none.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import msgspec
import pyarrow as pa

from backends.contract import schemas
from backends.extract.result import FileWarning
from backends.extract.scip.shard import walk_key

_LOCAL = "local "


class SymbolPart(msgspec.Struct, frozen=True, kw_only=True):
    """One SymbolInformation: its ``symbol`` row, the raw (unnormalized) symbol it came from,
    and its ``relationship`` rows (unnumbered)."""

    raw: str
    row: dict[str, Any]
    relationships: list[dict[str, Any]]
    own: bool = True
    """An external symbol: whether this file was its first emitter in the run that indexed it,
    so that the documentation is the file's own; False when an earlier file of that run
    emitted it (the file is only a candidate, and the row may not be what a run without that
    earlier file emits: :func:`foreign_externals`)."""


def foreign_externals(parts: Iterable[FilePart]) -> set[str]:
    """The files whose part is the first, in walk order, to carry an external symbol they did
    not emit themselves (``own`` False): that row's documentation, or its very presence, is
    another file's, earlier in the run that indexed the part, which may have changed or gone
    since. Indexed again, such a file emits its own (or nothing)."""
    first: dict[str, tuple[tuple[tuple[tuple[int, bytes], ...], str], bool]] = {}
    for part in parts:
        key = (walk_key(part.path), part.path)
        for info in part.externals:
            if info.raw not in first or key < first[info.raw][0]:
                first[info.raw] = (key, info.own)
    return {key[1] for key, own in first.values() if not own}


class FilePart(msgspec.Struct, frozen=True, kw_only=True):
    """What one document of an index contributes to the ``scip`` table."""

    path: str
    occurrences: pa.Table  # of the contract schema, numbered within the file
    symbols: list[SymbolPart]  # the document's SymbolInformation (path = this file)
    externals: list[SymbolPart]  # global external symbols it is a candidate emitter of
    warnings: list[FileWarning]  # EXTRACT_SPAN_UNMAPPED of this file


def _sort_key(row: dict[str, Any]) -> tuple[str, ...]:
    # Every column but ordinal, nulls first, so ties are broken by content alone.
    return tuple("" if row[c] is None else f"\x01{row[c]}" for c in schemas.SCIP.names)


def numbered(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``rows`` sorted by content and numbered from 0 (in place)."""
    rows.sort(key=_sort_key)
    for ordinal, row in enumerate(rows):
        row["ordinal"] = ordinal
    return rows


def _first_by_walk(
    candidates: Iterable[tuple[str, SymbolPart]],
) -> dict[str, tuple[str, SymbolPart]]:
    """raw symbol -> (path, part) of the candidate whose file comes first in walk order."""
    best: dict[str, tuple[str, SymbolPart]] = {}
    keys: dict[str, tuple[tuple[tuple[int, bytes], ...], str]] = {}
    for path, part in candidates:
        key = (walk_key(path), path)
        if part.raw not in best or key < keys[part.raw]:
            best[part.raw] = (path, part)
            keys[part.raw] = key
    return best


def _symbol_rows(
    ordered: list[FilePart],
) -> tuple[list[dict[str, Any]], list[tuple[str, FileWarning]]]:
    """The ``symbol`` and ``relationship`` rows of parts in walk order, and their warnings."""
    globals_ = _first_by_walk(
        (p.path, s) for p in ordered for s in p.symbols if not s.raw.startswith(_LOCAL)
    )
    externals = _first_by_walk((p.path, s) for p in ordered for s in p.externals)
    symbols: list[dict[str, Any]] = []
    relationships: list[dict[str, Any]] = []
    warnings: list[tuple[str, FileWarning]] = []
    for part in ordered:
        warnings.extend((part.path, w) for w in part.warnings)
        own: list[dict[str, Any]] = []
        for info in part.symbols:
            if not info.raw.startswith(_LOCAL) and globals_[info.raw][0] != part.path:
                continue  # another file, earlier in walk order, carries this symbol
            own.append(dict(info.row))
            relationships.extend(dict(r) for r in info.relationships)
        symbols.extend(numbered(own))
    external_rows: list[dict[str, Any]] = []
    for _, info in externals.values():
        external_rows.append(dict(info.row))
        relationships.extend(dict(r) for r in info.relationships)
    warnings.sort(key=lambda pw: (pw[0], pw[1].code, pw[1].detail or "", pw[1].message))
    return [*symbols, *numbered(external_rows), *numbered(relationships)], warnings


def _walk_sorted(parts: Iterable[FilePart]) -> list[FilePart]:
    return sorted(parts, key=lambda p: (walk_key(p.path), p.path))


def assemble(
    parts: Iterable[FilePart],
) -> tuple[list[dict[str, Any]], list[tuple[str, FileWarning]]]:
    """Rows of the ``scip`` table from per-file parts (one per path), and their warnings.

    Rows are fresh copies: the parts are left as they were.
    """
    ordered = _walk_sorted(parts)
    others, warnings = _symbol_rows(ordered)
    rows = [*(r for p in ordered for r in p.occurrences.to_pylist()), *others]
    rows.sort(key=lambda r: (r["kind"], r["path"] or "", r["path"] is not None, r["ordinal"]))
    return rows, warnings


def occurrence_table(part: FilePart) -> pa.Table:
    """The occurrence rows of a part as an Arrow table of the contract schema."""
    return part.occurrences


def assemble_table(
    parts: Iterable[FilePart], occurrences: Mapping[str, pa.Table] | None = None
) -> tuple[pa.Table, list[tuple[str, FileWarning]]]:
    """:func:`assemble` as one Arrow table in primary-key order (nulls last, as every
    evidence table), taking a file's occurrence rows from ``occurrences`` when it is there
    (a cached part keeps them as Arrow, never as Python rows)."""
    ordered = _walk_sorted(parts)
    others, warnings = _symbol_rows(ordered)
    tables = occurrences or {}
    pieces = [tables[p.path] if p.path in tables else occurrence_table(p) for p in ordered]
    pieces.append(pa.Table.from_pylist(others, schema=schemas.SCIP))
    table = pa.concat_tables([t.select(schemas.SCIP.names).cast(schemas.SCIP) for t in pieces])
    keys = [(k, "ascending") for k in ("kind", "path", "ordinal")]
    return (table.sort_by(keys) if table.num_rows else table), warnings
