"""Running the Hamilton extraction module (kept apart from it: Hamilton would take any public
function of ``extraction.py`` for a node)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from hamilton import driver  # type: ignore[import-untyped]

from backends.extract.runner import ExtractOptions, Progress
from backends.extract.summary import ExtractSummary
from backends.legacy import extraction
from backends.legacy.errors import LegacyError


def run_extraction(
    repo: Path,
    out_dir: Path,
    *,
    options: ExtractOptions | None = None,
    progress: Progress | None = None,
) -> ExtractSummary:
    """Stage 0 of ``repo`` into ``out_dir/evidence`` through the Hamilton extraction DAG.

    Stage 0 tolerates per-file failures; a failure of the whole run is ``EXTRACTION_FAILED``.
    """
    opts = options or ExtractOptions()
    if progress is not None:
        opts = dataclasses.replace(opts, progress=progress)
    try:
        dr = driver.Builder().with_modules(extraction).build()
        result = dr.execute(
            ["extraction"], inputs={"repo": repo, "out_dir": out_dir, "extract_options": opts}
        )
    except Exception as exc:
        raise LegacyError(
            "EXTRACTION_FAILED",
            f"extraction of {repo} failed: {type(exc).__name__}: {exc}",
            {"repo": str(repo), "error": type(exc).__name__},
        ) from exc
    summary: ExtractSummary = result["extraction"]
    return summary
