"""Splits the files to index into shards and runs one scip-python indexer per shard, at once.

scip-python's output depends on the order it visits documents in: a symbol's
SymbolInformation goes to the first document that creates the symbol, and an external
symbol keeps the documentation of its first emitter. A whole-repository run visits the
files in pyright's enumeration order (per folder: its files, then its sub-folders, names
compared as UTF-16 code units), the *walk order* of :func:`walk_key`. A shard is a
contiguous run of files in walk order, and lists them in that order, so every shard visits
its files exactly as the whole run does, and the merge (``merge.py``) keeps, for anything
two shards both emitted, the one from the earlier file in walk order.

Every shard sees the whole mirror (cross-file resolution is that of a whole run) and is
its own sandboxed subprocess with its own work folder, timeout and memory limit.
"""

from __future__ import annotations

import functools
import os
import shutil
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path, PurePosixPath
from typing import Final

from backends.extract.scip.indexer import IndexRun

# Below this many files a shard costs more than it saves: every indexer first parses and
# binds the builtins and the typeshed stubs it needs (about 1.5 s on a 2-core machine).
MIN_FILES_PER_SHARD: Final = 50


@functools.lru_cache(maxsize=1 << 16)
def walk_key(path: str) -> tuple[tuple[int, bytes], ...]:
    """Sort key of a repo-relative POSIX path in pyright's enumeration order."""
    parts = PurePosixPath(path).parts
    folders = tuple((1, part.encode("utf-16-be")) for part in parts[:-1])
    return (*folders, (0, parts[-1].encode("utf-16-be")))


def walk_order(paths: Sequence[str] | set[str] | frozenset[str]) -> list[str]:
    """``paths`` in walk order."""
    return sorted(paths, key=walk_key)


def shard_count(requested: int, files: int, cores: int | None = None) -> int:
    """How many shards to run: ``requested`` when positive, else one per two cores; never more
    than one per file, and (when not requested) never shards under MIN_FILES_PER_SHARD files.

    Why not one per core: every shard also indexes the project files its targets import
    (pyright tracks them once imported), so two shards of a 500-file generated repo cost
    1.6x the CPU of one run, and the indexers share the cores with the per-file pool. On 2
    cores two shards were slower than one (cold Stage 0: 1.04x on the standard library,
    1.20x on the generated repo; scip alone 33.6 s against 27.2 s).
    """
    if files <= 0:
        return 0
    if requested > 0:
        return min(requested, files)
    cores = cores if cores is not None else (os.cpu_count() or 1)
    return max(1, min(cores // 2, files // MIN_FILES_PER_SHARD))


def plan(sizes: Mapping[str, int], shards: int) -> list[list[str]]:
    """Split the files (path -> size in bytes) into ``shards`` contiguous runs of the walk
    order with about the same number of bytes each; no run is empty.

    Depends on the set of files and their sizes only, never on the order they are given in.
    """
    ordered = walk_order(set(sizes))
    shards = max(1, min(shards, len(ordered)))
    if shards == 1:
        return [ordered] if ordered else []
    weights = [max(1, sizes[p]) for p in ordered]
    total = sum(weights)
    runs: list[list[str]] = []
    current: list[str] = []
    done = 0
    for i, (path, weight) in enumerate(zip(ordered, weights, strict=True)):
        current.append(path)
        done += weight
        left_files = len(ordered) - i - 1
        left_shards = shards - len(runs) - 1
        boundary = total * (len(runs) + 1) / shards
        # Cut at the byte boundary, but keep a file for every shard still to fill.
        if left_shards > 0 and (done >= boundary or left_files == left_shards):
            runs.append(current)
            current = []
    if current:
        runs.append(current)
    return runs


RunOne = Callable[[Sequence[str] | None, Path], IndexRun]


def run_shards(
    shards: Sequence[Sequence[str]], work_dir: Path, run_one: RunOne, *, whole: bool
) -> list[IndexRun | BaseException]:
    """Run ``run_one(targets, work_dir_k)`` for every shard at once (one thread each, waiting
    on its own subprocess); each shard's run, or the exception that kept it from starting.

    ``whole`` (one shard holding every file) runs without a target list in ``work_dir``
    itself, exactly as before sharding existed.
    """
    if whole:
        try:
            return [run_one(None, work_dir)]
        except Exception as exc:  # reported by the caller as SCIP_FAILED
            return [exc]
    work_dir = work_dir.absolute()
    work_dir.mkdir(parents=True, exist_ok=True)
    # Folders of a run killed mid-index (its shard count may differ): the run folder has one
    # writer, so nothing else uses them.
    for stale in (*work_dir.glob("shard-*"), *work_dir.glob("run-*")):
        shutil.rmtree(stale, ignore_errors=True)

    def one(k: int) -> IndexRun | BaseException:
        try:
            return run_one(shards[k], work_dir / f"shard-{k}")
        except Exception as exc:
            return exc

    if len(shards) == 1:
        return [one(0)]
    with ThreadPoolExecutor(max_workers=len(shards), thread_name_prefix="scip-shard") as pool:
        return list(pool.map(one, range(len(shards))))
