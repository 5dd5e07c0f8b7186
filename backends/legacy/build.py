"""``build``: the legacy backend end to end — Stage-0 extraction, then the semantic run."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from deltalake import DeltaTable

from backends.contract.result import RunResult
from backends.contract.schemas import EVIDENCE_TABLES
from backends.contract.spec import SpecPolicy
from backends.contract.views import default_spec, evidence_bindings
from backends.extract.runner import ExtractOptions, Progress
from backends.extract.summary import ExtractSummary
from backends.legacy.driver import run_semantics
from backends.legacy.errors import LegacyError
from backends.legacy.staged import run_extraction


@dataclass(frozen=True)
class LegacyBuild:
    """What one legacy build produced: the Stage-0 summary, the semantic run, timings (s)."""

    summary: ExtractSummary
    result: RunResult
    timings: dict[str, float]


def build(
    repo: Path,
    out_dir: Path,
    *,
    options: ExtractOptions | None = None,
    policy: SpecPolicy | None = None,
    progress: Progress | None = None,
    views_dir: Path | None = None,
) -> LegacyBuild:
    """Extract ``repo`` into ``out_dir/evidence`` and compute ``out_dir/outputs`` (and every
    view under ``views_dir`` when given)."""
    started = time.perf_counter()
    try:
        summary = run_extraction(repo, out_dir, options=options, progress=progress)
    except Exception as exc:  # Stage 0 tolerates per-file failures; this is a whole-run fault
        raise LegacyError(
            "EXTRACTION_FAILED",
            f"extraction of {repo} failed: {type(exc).__name__}: {exc}",
            {"repo": str(repo), "error": type(exc).__name__},
        ) from exc
    extract_s = time.perf_counter() - started
    evidence = out_dir / "evidence"
    # extract_diagnostics has no extractor stats: read every pin back from the Delta logs.
    versions = {name: int(DeltaTable(str(evidence / name)).version()) for name in EVIDENCE_TABLES}
    spec = default_spec(evidence_bindings(str(evidence), versions), policy=policy)
    t1 = time.perf_counter()
    result = run_semantics(spec, out_dir / "outputs", views_dir=views_dir)
    semantic_s = time.perf_counter() - t1
    return LegacyBuild(
        summary=summary,
        result=result,
        timings={
            "extract_s": round(extract_s, 6),
            "semantic_s": round(semantic_s, 6),
            "total_s": round(time.perf_counter() - started, 6),
        },
    )
