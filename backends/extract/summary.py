"""The summary of one Stage-0 run (``codeanatomy extract --json`` prints it)."""

from __future__ import annotations

import msgspec


class ExtractorStats(msgspec.Struct, frozen=True, kw_only=True):
    """Per extractor: rows written, files covered, cache hits, and files neither covered nor
    warned about (must be empty: every file is accounted for by rows or a warning)."""

    rows: int
    files_with_rows: int
    files_with_warnings: int
    cache_hits: int
    delta_version: int
    unaccounted: list[str]


class ScipStats(msgspec.Struct, frozen=True, kw_only=True):
    """How the scip step went: files it covers, served from the cache, given to the indexer
    (``late``: of those, served files indexed again after the pool), in failed shards, and
    the shards of the first indexer run (0: none ran)."""

    files: int = 0
    cached: int = 0
    indexed: int = 0
    late: int = 0
    failed: int = 0
    shards: int = 0
    seconds: float = 0.0


class ExtractSummary(msgspec.Struct, frozen=True, kw_only=True):
    """Everything a caller needs to judge a Stage-0 run."""

    repo: str
    out: str
    files: int
    python_files_ok: int
    extractors: dict[str, ExtractorStats]
    warnings_by_code: dict[str, int]
    worker_crashes: int
    seconds: dict[str, float]
    tables: dict[str, int]
    scip: ScipStats | None = None
    """How scip-python ran: files served from the per-file cache, indexed, shards (CONTRACT
    §5.7); None when scip was not run (``--only`` without it)."""

    @property
    def all_accounted(self) -> bool:
        return all(not s.unaccounted for s in self.extractors.values())
