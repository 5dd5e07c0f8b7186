"""Stage-0 extraction: staged barriers over a crash-tolerant process pool, cached per file,
written as Delta tables under ``OUT/evidence/`` (DESIGN §4).

    repo_scan ─► {ast, cst, tree_sitter, bytecode, symtable} (pool) + scip (subprocess)
              ─► python_imports ─► python_external
"""

from __future__ import annotations

import os
import random
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.compute as pc

from backends.contract.codes import WARNING_CODES
from backends.contract.schemas import EVIDENCE_TABLES, EXTRACTORS
from backends.extract import external, imports, repo_scan
from backends.extract.cache import CachedResult, ResultCache, cache_key
from backends.extract.delta import merge_table
from backends.extract.pool import run_tasks
from backends.extract.registry import PER_FILE, extractor_version
from backends.extract.result import FileWarning
from backends.extract.source import DEFAULT_MAX_FILE_BYTES
from backends.extract.summary import ExtractorStats, ExtractSummary, ScipStats
from backends.extract.worker import FileTask

if TYPE_CHECKING:
    from backends.extract.scip import stage as scip_stage

Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class ExtractOptions:
    """How to run Stage 0. ``file_order_seed`` shuffles dispatch order (determinism tests)."""

    workers: int = 0
    cache_dir: Path | None = None
    extractors: tuple[str, ...] = EXTRACTORS
    file_timeout_s: float = 60.0
    # Files larger than this are not read (SCAN_FILE_TOO_LARGE); [extract].max_file_bytes.
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES
    scip_timeout_s: float = 900.0
    scip_max_old_space_mb: int = 4096
    # scip-python indexers run at once, each on a shard of the files to index (the whole
    # repository in its mirror): 0 = one per two cores, with at least 50 files per shard
    # (backends/extract/scip/shard.py says why); 1 = one indexer, as before sharding. The
    # rows do not depend on it (scip/merge.py says when scip-python's order-dependent output
    # makes a rare row differ).
    scip_shards: int = 0
    file_order_seed: int | None = None
    progress: Progress | None = None

    def worker_count(self, *, indexer_running: bool = False) -> int:
        """Explicit ``workers``, else one per core, less one while the indexer runs: scip is
        one serial process and the critical path of a cold run, so it gets a core of its own."""
        if self.workers > 0:
            return self.workers
        cores = os.cpu_count() or 1
        return max(1, cores - 1) if indexer_running else cores


@dataclass
class _Collected:
    """Mutable accumulator owned by one run (results arrive from the pool callback)."""

    # extractor -> [(path, table)]; concatenated in path order, so no global sort is needed.
    batches: dict[str, list[tuple[str, pa.Table]]] = field(
        default_factory=lambda: defaultdict(list)
    )
    warnings: list[tuple[str, str, FileWarning]] = field(default_factory=list)
    files_with_rows: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    succeeded: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    # Files with a result that describes the file (not a timeout or a crash) per extractor.
    seen: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    cache_hits: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, extractor: str, path: str, result: CachedResult, from_cache: bool) -> None:
        table = _from_ipc(result.ipc, extractor)
        with self.lock:
            if table.num_rows:
                col = pa.array([path] * table.num_rows, pa.string())
                self.batches[extractor].append((path, table.add_column(0, "path", col)))
                self.files_with_rows[extractor].add(path)
            for w in result.warnings:
                self.warnings.append((path, extractor, w))
            if not any(WARNING_CODES[w.code].severity == "error" for w in result.warnings):
                self.succeeded[extractor].add(path)
            if not any(w.code in _UNCACHED for w in result.warnings):
                self.seen[extractor].add(path)
            if from_cache:
                self.cache_hits[extractor] += 1


def _from_ipc(data: bytes, extractor: str) -> pa.Table:
    if not data:
        from backends.extract.worker import row_schema

        return row_schema(extractor).empty_table()
    return pa.ipc.open_stream(pa.py_buffer(data)).read_all()


def _table(
    extractor: str, parts: list[tuple[str, pa.Table]], rows: list[dict[str, Any]] | None
) -> pa.Table:
    """The contract table of one extractor, rows in primary-key order.

    Per-file parts are already in ordinal order and are concatenated by path; explicit rows
    are built and sorted by key.
    """
    contract = EVIDENCE_TABLES[extractor]
    if rows is not None:
        table = pa.Table.from_pylist(rows, schema=contract.schema)
        keys = [(k, "ascending") for k in contract.primary_key]
        return table.sort_by(keys) if table.num_rows else table
    if not parts:
        return contract.schema.empty_table()
    ordered = [t.select(contract.schema.names) for _, t in sorted(parts, key=lambda p: p[0])]
    return pa.concat_tables(ordered).cast(contract.schema)


@dataclass
class ExtractRun:
    """The state of one Stage-0 run as it passes through the stages, in this order:
    :func:`scan_stage` -> :func:`per_file_stage` -> :func:`imports_stage` ->
    :func:`external_stage` -> :func:`write_stage` (each takes and returns the run)."""

    repo_root: Path
    out_dir: Path
    options: ExtractOptions
    cache: ResultCache
    wanted: set[str]
    started: float
    coll: _Collected = field(default_factory=_Collected)
    seconds: dict[str, float] = field(default_factory=dict)
    scanned: list[repo_scan.ScannedFile] = field(default_factory=list)
    scan_rows: list[dict[str, Any]] = field(default_factory=list)
    syntax: dict[str, pa.Table] = field(default_factory=dict)
    crashes: int = 0
    import_rows: list[dict[str, Any]] = field(default_factory=list)
    external_rows: list[dict[str, Any]] = field(default_factory=list)
    versions: dict[str, int] = field(default_factory=dict)
    # How the scip step went (files served from its cache, indexed, shards); None: not run.
    scip: ScipStats | None = None


def scan_stage(repo_root: Path, out_dir: Path, options: ExtractOptions | None = None) -> ExtractRun:
    """Stage 0a: walk the repository (``repo_scan``)."""
    options = options or ExtractOptions()
    run = ExtractRun(
        repo_root=repo_root.resolve(),
        out_dir=out_dir,
        options=options,
        cache=ResultCache(options.cache_dir),
        wanted=set(options.extractors),
        started=time.perf_counter(),
    )
    t0 = time.perf_counter()
    run.scanned = repo_scan.scan(run.repo_root, max_file_bytes=options.max_file_bytes)
    run.seconds["repo_scan"] = time.perf_counter() - t0
    run.scan_rows = [f.row for f in run.scanned]
    for f in run.scanned:
        for warning in f.warnings:
            run.coll.warnings.append((f.path, "repo_scan", warning))
    return run


def per_file_stage(run: ExtractRun) -> ExtractRun:
    """Stage 1: per-file parsers in the pool, scip alongside in a thread (its own subprocesses).

    The cache is read first: the syntax results it serves give the imports that key each
    file's scip rows, so the indexer starts at once on the files whose key misses.
    """
    options, cache, coll, seconds = run.options, run.cache, run.coll, run.seconds
    ok_files = [f for f in run.scanned if f.text is not None]
    t1 = time.perf_counter()
    per_file = [e for e in PER_FILE if e in run.wanted]
    tasks = _plan_tasks(ok_files, per_file, cache, coll, options)
    scip_job = _start_scip(run, ok_files)
    done = 0

    def on_result(task: FileTask, results: dict[str, CachedResult]) -> None:
        nonlocal done
        text_sha = _text_sha(ok_files_by_path[task.path])
        for name, result in results.items():
            coll.add(name, task.path, result, from_cache=False)
            key = cache_key(
                name,
                extractor_version(name),
                task.path,
                task.module,
                task.is_package,
                text_sha,
            )
            if not any(w.code in _UNCACHED for w in result.warnings):
                cache.put(name, key, result)
        done += 1
        if options.progress:
            options.progress("extract", done, len(tasks))

    ok_files_by_path = {f.path: f for f in ok_files}
    running = scip_job is not None and scip_job.thread is not None
    run.crashes = run_tasks(
        tasks,
        on_result,
        workers=options.worker_count(indexer_running=running),
        # Per extractor: the worker's own limit plus a grace for native code, which never
        # sees the worker's alarm (the pool kills it at this deadline).
        hard_timeout_s=options.file_timeout_s + _HARD_TIMEOUT_GRACE_S,
    )
    seconds["per_file"] = time.perf_counter() - t1
    run.syntax = {s: _table(s, coll.batches[s], None) for s in imports.SYNTAX_SOURCES}
    if options.progress and running:
        # Repository-wide: one step, which can outlast the per-file work on a large repo.
        options.progress("scip-python index", 0, 1)
    # No per-file task ran: the syntax results are the ones the cache served at the start.
    scip_table = _join_scip(run, scip_job, syntax_unchanged=not tasks)
    if options.progress and running:
        options.progress("scip-python index", 1, 1)
    seconds["stage1"] = time.perf_counter() - t1
    if scip_table is not None:
        run.syntax["scip"] = scip_table  # built already; materialized with the others below
    return run


def imports_stage(run: ExtractRun) -> ExtractRun:
    """Stage 2: reconcile the syntax sources' imports (``python_imports``)."""
    t2 = time.perf_counter()
    if "python_imports" in run.wanted:
        run.import_rows, import_warnings = imports.reconcile(
            run.syntax, run.scan_rows, run.coll.succeeded
        )
        run.coll.warnings.extend((p, "python_imports", w) for p, w in import_warnings)
    run.seconds["python_imports"] = time.perf_counter() - t2
    return run


def external_stage(run: ExtractRun) -> ExtractRun:
    """Stage 3: classify the imports that leave the repository (``python_external``)."""
    t3 = time.perf_counter()
    if "python_external" in run.wanted:
        run.external_rows, external_warnings = external.external_rows(
            run.import_rows, run.repo_root, run.cache
        )
        run.coll.warnings.extend((p, "python_external", w) for p, w in external_warnings)
    run.seconds["python_external"] = time.perf_counter() - t3
    for name, produced in (
        ("python_imports", run.import_rows),
        ("python_external", run.external_rows),
    ):
        run.coll.files_with_rows[name].update(str(r["path"]) for r in produced)
    return run


def write_stage(run: ExtractRun) -> ExtractSummary:
    """Materialize every evidence table (empty ones too: the schema is the contract)."""
    t4 = time.perf_counter()
    explicit_rows: dict[str, list[dict[str, Any]]] = {
        "repo_scan": run.scan_rows,
        "python_imports": run.import_rows,
        "python_external": run.external_rows,
        "extract_diagnostics": _diagnostic_rows(run.coll.warnings),
    }
    evidence_dir = run.out_dir / "evidence"
    rows_by_table: dict[str, int] = {}
    progress = run.options.progress
    for i, name in enumerate(EVIDENCE_TABLES):
        if progress:
            progress("write evidence tables", i, len(EVIDENCE_TABLES))
        table = run.syntax.get(name)
        if table is None:
            table = _table(name, run.coll.batches.get(name, []), explicit_rows.get(name))
        key = EVIDENCE_TABLES[name].primary_key
        run.versions[name] = merge_table(evidence_dir / name, table, key).version_after
        rows_by_table[name] = table.num_rows
    if progress:
        progress("write evidence tables", len(EVIDENCE_TABLES), len(EVIDENCE_TABLES))
    run.seconds["write"] = time.perf_counter() - t4
    run.seconds["total"] = time.perf_counter() - run.started
    return _summary(
        run.repo_root,
        run.out_dir,
        run.scanned,
        run.coll,
        rows_by_table,
        run.versions,
        run.seconds,
        run.crashes,
        run.wanted,
        run.scip,
    )


def extract(
    repo_root: Path, out_dir: Path, options: ExtractOptions | None = None
) -> ExtractSummary:
    """Run all of Stage 0 on ``repo_root`` and write ``out_dir/evidence/<table>``."""
    run = scan_stage(repo_root, out_dir, options)
    return write_stage(external_stage(imports_stage(per_file_stage(run))))


# Seconds a task may run past its extractors' limits before the pool kills it (worker start,
# result transfer). Native hangs cost at most this much more than the per-file limit.
_HARD_TIMEOUT_GRACE_S = 10.0

# Warnings that describe this run rather than the file: never cached.
_UNCACHED = frozenset({"EXTRACT_WORKER_CRASHED", "EXTRACT_TIMEOUT"})


def _text_sha(f: repo_scan.ScannedFile) -> str:
    return str(f.row["text_sha256"])


def _plan_tasks(
    ok_files: list[repo_scan.ScannedFile],
    per_file: list[str],
    cache: ResultCache,
    coll: _Collected,
    options: ExtractOptions,
) -> list[FileTask]:
    """Serve what the cache has; a task per file for the extractors it lacks."""
    versions = {name: extractor_version(name) for name in per_file}
    tasks: list[FileTask] = []
    for f in ok_files:
        missing: list[str] = []
        for name in per_file:
            key = cache_key(
                name, versions[name], f.path, f.row["module"], f.row["is_package"], _text_sha(f)
            )
            hit = cache.get(name, key)
            if hit is None:
                missing.append(name)
            else:
                coll.add(name, f.path, hit, from_cache=True)
        if missing:
            tasks.append(
                FileTask(
                    path=f.path,
                    module=f.row["module"],
                    is_package=bool(f.row["is_package"]),
                    text=f.text or "",
                    extractors=tuple(missing),
                    timeout_s=options.file_timeout_s,
                )
            )
    if options.file_order_seed is not None:
        random.Random(options.file_order_seed).shuffle(tasks)
    else:
        # Biggest first: the pool finishes sooner when the long files do not come last.
        tasks.sort(key=lambda t: (-len(t.text), t.path))
    return tasks


def _start_scip(run: ExtractRun, ok_files: list[repo_scan.ScannedFile]) -> scip_stage.Job | None:
    """Serve scip from the per-file cache and start indexing the rest (``scip/stage.py``)."""
    if "scip" not in run.wanted:
        return None
    from backends.extract.scip import stage

    coll = run.coll
    cached = {s: [t for _, t in coll.batches[s]] for s in stage.SOURCES if coll.batches[s]}
    syntax = stage.syntax_of(
        run.wanted, {s: [pa.concat_tables(ts)] for s, ts in cached.items()}, coll.seen
    )
    settings = stage.Settings(
        repo_root=run.repo_root,
        work_dir=run.out_dir / "work" / "scip",
        cache=run.cache,
        shards=run.options.scip_shards,
        timeout_s=run.options.scip_timeout_s,
        max_old_space_mb=run.options.scip_max_old_space_mb,
    )
    texts = {f.path: f.text for f in ok_files if f.text is not None}
    return stage.start(texts, {f.path: _text_sha(f) for f in ok_files}, syntax, settings)


def _join_scip(
    run: ExtractRun, job: scip_stage.Job | None, *, syntax_unchanged: bool = False
) -> pa.Table | None:
    """Wait for the indexer; its table (None when scip did not run), warnings collected."""
    if job is None:
        return None
    from backends.extract.scip import stage

    coll = run.coll
    syntax = stage.syntax_of(
        run.wanted, {s: [run.syntax[s]] for s in stage.SOURCES if s in run.syntax}, coll.seen
    )
    table, warnings, stats = job.join(syntax, syntax_unchanged=syntax_unchanged)
    run.scip = stats
    coll.warnings.extend((path, "scip", w) for path, w in warnings)
    if table is None:
        return None
    coll.cache_hits["scip"] += stats.cached
    paths = pc.unique(table["path"].drop_null()).to_pylist()
    coll.files_with_rows["scip"].update(str(p) for p in paths)
    return table


def _diagnostic_rows(warnings: list[tuple[str, str, FileWarning]]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    counters: dict[tuple[str, str], int] = defaultdict(int)
    ordered = sorted(
        warnings, key=lambda t: (t[0], t[1], t[2].bstart or -1, t[2].code, t[2].message)
    )
    for path, extractor, w in ordered:
        ordinal = counters[(path, extractor)]
        counters[(path, extractor)] += 1
        rows.append(
            {
                "path": path,
                "extractor": extractor,
                "ordinal": ordinal,
                "code": w.code,
                "severity": str(WARNING_CODES[w.code].severity),
                "message": w.message,
                "detail": w.detail,
                "bstart": w.bstart,
                "bend": w.bend,
                "line": w.line,
                "col": w.col,
                "end_line": w.end_line,
                "end_col": w.end_col,
            }
        )
    return rows


def _summary(
    repo_root: Path,
    out_dir: Path,
    scanned: list[repo_scan.ScannedFile],
    coll: _Collected,
    rows_by_table: dict[str, int],
    versions: dict[str, int],
    seconds: dict[str, float],
    crashes: int,
    wanted: set[str],
    scip: ScipStats | None = None,
) -> ExtractSummary:
    warned: dict[str, set[str]] = defaultdict(set)
    codes: dict[str, int] = defaultdict(int)
    for path, extractor, w in coll.warnings:
        warned[extractor].add(path)
        codes[w.code] += 1
    all_paths = [f.path for f in scanned]
    ok_paths = {f.path for f in scanned if f.text is not None}
    stats: dict[str, ExtractorStats] = {}
    for name in EXTRACTORS:
        if name not in wanted:
            continue
        if name == "repo_scan":
            expected = set(all_paths)
            with_rows = set(all_paths)
        else:
            expected = ok_paths if name in PER_FILE else set()
            with_rows = coll.files_with_rows.get(name, set())
        unaccounted = sorted(expected - with_rows - warned.get(name, set()) - warned["repo_scan"])
        stats[name] = ExtractorStats(
            rows=rows_by_table.get(name, 0),
            files_with_rows=len(with_rows),
            files_with_warnings=len(warned.get(name, set())),
            cache_hits=coll.cache_hits.get(name, 0),
            delta_version=versions.get(name, -1),
            unaccounted=unaccounted,
        )
    return ExtractSummary(
        repo=str(repo_root),
        out=str(out_dir),
        files=len(all_paths),
        python_files_ok=len(ok_paths),
        extractors=stats,
        warnings_by_code=dict(sorted(codes.items())),
        worker_crashes=crashes,
        seconds={k: round(v, 4) for k, v in seconds.items()},
        tables={k: rows_by_table[k] for k in sorted(rows_by_table)},
        scip=scip,
    )
