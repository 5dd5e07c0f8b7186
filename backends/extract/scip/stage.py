"""The scip step of Stage 0: per-file cache first, the indexer (sharded) for the rest.

:func:`start` runs before the per-file pool: it keys every file by its forward import
closure (``closure.py``; the imports come from the syntax results the cache already served),
takes the parts of the files whose key hits, and starts a thread that indexes the others as
targets, with the whole repository in the mirror. :meth:`Job.join` runs after the pool: it
keys every file again with every syntax result now at hand, indexes the files it served
whose key changed (none, unless the cache's syntax results and this run's disagree), stores
the new parts, and assembles the table from all parts (``merge.py``).

Nothing that describes this run rather than the files is cached: a shard that failed leaves
its files uncached (indexed again next time), and an unavailable indexer caches nothing.
"""

from __future__ import annotations

import ast
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec
import pyarrow as pa

from backends.extract.cache import ResultCache
from backends.extract.result import FileWarning
from backends.extract.scip import (
    INDEXER,
    Indexed,
    index_files,
    project_name,
    sorted_warnings,
    split_safe,
)
from backends.extract.scip.closure import ImportGraph, ImportRef, file_keys, import_refs
from backends.extract.scip.indexer import SETTINGS
from backends.extract.scip.merge import (
    FilePart,
    SymbolPart,
    assemble_table,
    foreign_externals,
    occurrence_table,
)
from backends.extract.summary import ScipStats as Stats

NAME = "scip"
# The syntax extractors whose ``import`` rows give a file's imports (python_imports' sources).
SOURCES = ("ast", "cst", "tree_sitter")
# Bumped when the stored part changes shape (3: external symbols say whether the file emitted
# them, ``SymbolPart.own``).
PART_FORMAT = "3"
# Rounds of re-indexing the cached files that carry an external symbol another file emitted
# (each round asks the next candidate in walk order); one suffices unless the next candidate
# does not emit the symbol either.
MAX_EXTERNAL_ROUNDS = 8

_encoder = msgspec.msgpack.Encoder()


@dataclass(frozen=True)
class Syntax:
    """The syntax results at hand: per source, its tables (with ``path``) and the files it has
    a result for. ``sources`` empty: no syntax extractor runs, imports are read with ``ast``."""

    sources: tuple[str, ...]
    tables: Mapping[str, list[pa.Table]]
    seen: Mapping[str, set[str]]


@dataclass(frozen=True)
class Settings:
    """What the step needs besides the files."""

    repo_root: Path
    work_dir: Path
    cache: ResultCache
    shards: int
    timeout_s: float
    max_old_space_mb: int


def parsed_refs(path: str, text: str) -> set[ImportRef] | None:
    """The imports of one file read with ``ast`` (when no syntax extractor runs)."""
    try:
        tree = ast.parse(text, filename=path)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    refs: set[ImportRef] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            refs |= {ImportRef(a.name, None, 0) for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            refs |= {ImportRef(node.module, a.name, node.level) for a in node.names}
    return refs


def _graph(texts: Mapping[str, str], syntax: Syntax) -> ImportGraph:
    if not syntax.sources:
        parsed = {p: parsed_refs(p, t) for p, t in texts.items()}
        refs = {p: r for p, r in parsed.items() if r is not None}
        return ImportGraph.build(texts, refs, refs)
    known = set(texts)
    for source in syntax.sources:
        known &= syntax.seen.get(source, set())
    tables = [t for s in syntax.sources for t in syntax.tables.get(s, [])]
    return ImportGraph.build(texts, import_refs(tables), known)


def _keys(
    texts: Mapping[str, str], shas: Mapping[str, str], syntax: Syntax, project: str
) -> dict[str, str | None]:
    indexer = f"{INDEXER};{SETTINGS};{PART_FORMAT}"
    return file_keys(_graph(texts, syntax), shas, indexer=indexer, project=project)


class StoredPart(msgspec.Struct, frozen=True, kw_only=True):
    """A :class:`FilePart` as the cache keeps it: occurrence rows as a compressed Arrow IPC
    stream (most of a part), everything else as it is."""

    path: str
    occurrences: bytes
    symbols: list[SymbolPart]
    externals: list[SymbolPart]
    warnings: list[FileWarning]


_stored_decoder = msgspec.msgpack.Decoder(StoredPart)
_IPC_OPTIONS = pa.ipc.IpcWriteOptions(compression="zstd")


def _stored(part: FilePart, occurrences: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, occurrences.schema, options=_IPC_OPTIONS) as writer:
        writer.write_table(occurrences)
    stored = StoredPart(
        path=part.path,
        occurrences=bytes(sink.getvalue()),
        symbols=part.symbols,
        externals=part.externals,
        warnings=part.warnings,
    )
    return _encoder.encode(stored)


def _get(cache: ResultCache, key: str) -> tuple[FilePart, pa.Table] | None:
    """A cached part and its occurrence rows (the same table, as the part holds it)."""
    data = cache.get_bytes(NAME, key)
    if data is None:
        return None
    try:
        stored = _stored_decoder.decode(data)
        occurrences = pa.ipc.open_stream(pa.py_buffer(stored.occurrences)).read_all()
    except (msgspec.DecodeError, msgspec.ValidationError, pa.ArrowException):
        return None  # a torn or stale entry is a miss, never an error
    part = FilePart(
        path=stored.path,
        occurrences=occurrences,
        symbols=stored.symbols,
        externals=stored.externals,
        warnings=stored.warnings,
    )
    return part, occurrences


@dataclass
class Job:
    """One run's scip step between :func:`start` and :meth:`join`."""

    settings: Settings
    texts: dict[str, str]
    shas: dict[str, str]
    warnings: list[tuple[str, FileWarning]]
    cached: dict[str, FilePart]
    cached_tables: dict[str, pa.Table]  # the occurrence rows of the cached parts
    lookup_keys: dict[str, str]
    # The keys computed by :func:`start` (None: no cache). They hold at :meth:`join` when
    # ``keys_final`` (imports read with ``ast`` from the same texts) or when no syntax result
    # arrived after the start (every file's syntax served by the cache); else they are
    # computed again with every syntax result.
    planned_keys: dict[str, str | None] | None
    targets: set[str] | None  # None: every file (a whole run)
    started: float
    keys_final: bool = False
    thread: threading.Thread | None = None
    box: dict[str, Any] = field(default_factory=dict)

    def _index(self, targets: set[str] | None) -> Indexed:
        s = self.settings
        return index_files(
            s.repo_root,
            self.texts,
            s.work_dir,
            targets=targets,
            shards=s.shards,
            timeout_s=s.timeout_s,
            max_old_space_mb=s.max_old_space_mb,
        )

    def _run(self) -> None:
        try:
            self.box["indexed"] = self._index(self.targets)
        except Exception as exc:  # the indexer wrapper must never abort Stage 0
            self.box["error"] = exc

    def join(
        self, syntax: Syntax, *, syntax_unchanged: bool = False
    ) -> tuple[pa.Table | None, list[tuple[str, FileWarning]], Stats]:
        """Wait for the indexer; the ``scip`` table (None when the step failed as a whole),
        all warnings, and the stats. ``syntax``: every syntax result of the run;
        ``syntax_unchanged``: none of them arrived after :func:`start` (all were cached)."""
        if self.thread is not None:
            self.thread.join()
        if "error" in self.box:
            exc = self.box["error"]
            crash = FileWarning(code="SCIP_FAILED", message=f"{type(exc).__name__}: {exc}")
            return None, [("", crash)], Stats(files=len(self.texts))
        indexed: Indexed | None = self.box.get("indexed")
        if indexed is not None and indexed.unavailable:
            # No indexer: the run goes on without SCIP evidence (CONTRACT §5.7).
            return assemble_table([])[0], indexed.warnings, Stats(files=len(self.texts))
        parts = dict(self.cached)
        warnings = list(self.warnings)
        fresh: dict[str, FilePart] = {}
        failed: list[str] = []

        def absorb(result: Indexed) -> None:
            fresh.update(result.parts)
            warnings.extend(result.warnings)
            failed.extend(result.failed)

        def index_again(paths: set[str]) -> int:
            """Drop the cached parts of ``paths`` and index them again; how many."""
            for path in paths:
                parts.pop(path, None)
            absorb(self._index(paths))
            return len(paths)

        if indexed is not None:
            absorb(indexed)
        late = 0
        cache = self.settings.cache
        keys: dict[str, str | None] = {}
        if cache.root is not None:
            reuse = self.planned_keys is not None and (self.keys_final or syntax_unchanged)
            keys = (
                self.planned_keys
                if reuse and self.planned_keys is not None
                else _keys(self.texts, self.shas, syntax, project_name(self.settings.repo_root))
            )
            stale = {p for p, k in self.lookup_keys.items() if keys.get(p) != k}
            if stale:  # served on imports the pool now reads differently: index them again
                late = index_again(stale)
        # A cached part first to carry an external symbol it did not emit (its emitter, earlier
        # in the run that indexed it, has changed or gone): indexed again, until every external
        # row comes from its emitter or none is left to ask (merge.foreign_externals).
        for _ in range(MAX_EXTERNAL_ROUNDS):
            current = {**parts, **fresh}
            foreign = {p for p in foreign_externals(current.values()) if p not in fresh}
            foreign -= set(failed)
            if not foreign:
                break
            late += index_again(foreign)
        tables = dict(self.cached_tables)
        tables.update((path, occurrence_table(part)) for path, part in fresh.items())
        for path, part in fresh.items():
            key = keys.get(path)
            if key is not None:
                cache.put_bytes(NAME, key, _stored(part, tables[path]))
        parts.update(fresh)
        table, part_warnings = assemble_table(parts.values(), tables)
        first = 0 if self.thread is None else len(self.targets or self.texts)
        stats = Stats(
            files=len(self.texts),
            cached=len(self.cached) - late,
            indexed=first + late,
            late=late,
            failed=len(failed),
            shards=indexed.shards if indexed is not None else 0,
            seconds=round(time.perf_counter() - self.started, 3),
        )
        return table, sorted_warnings([*warnings, *part_warnings]), stats


def start(
    texts: Mapping[str, str],
    shas: Mapping[str, str],
    syntax: Syntax,
    settings: Settings,
) -> Job:
    """Serve the cache hits and start indexing the rest (in a thread); see the module doc."""
    started = time.perf_counter()
    safe, warnings = split_safe(texts)
    cached: dict[str, FilePart] = {}
    cached_tables: dict[str, pa.Table] = {}
    lookup: dict[str, str] = {}
    keys: dict[str, str | None] | None = None
    if settings.cache.root is not None and safe:
        keys = _keys(safe, shas, syntax, project_name(settings.repo_root))
        for path, key in keys.items():
            if key is None:
                continue
            got = _get(settings.cache, key)
            if got is not None and got[0].path == path:
                cached[path] = got[0]
                cached_tables[path] = got[1]
                lookup[path] = key
    missing = set(safe) - set(cached)
    targets: set[str] | None = None if missing == set(safe) else missing
    job = Job(
        settings=settings,
        texts=safe,
        shas=dict(shas),
        warnings=warnings,
        cached=cached,
        cached_tables=cached_tables,
        lookup_keys=lookup,
        planned_keys=keys,
        keys_final=not syntax.sources,
        targets=targets,
        started=started,
    )
    if targets is None or targets:
        job.thread = threading.Thread(target=job._run, name="scip", daemon=True)
        job.thread.start()
    return job


def syntax_of(
    wanted: Iterable[str], tables: Mapping[str, list[pa.Table]], seen: Mapping[str, set[str]]
) -> Syntax:
    """The :class:`Syntax` of a run that extracts ``wanted``."""
    sources = tuple(s for s in SOURCES if s in set(wanted))
    return Syntax(sources=sources, tables=tables, seen=seen)
