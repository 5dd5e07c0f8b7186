"""Running the Hamilton extraction module (kept apart from it: Hamilton would take any public
function of ``extraction.py`` for a node)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from hamilton import driver  # type: ignore[import-untyped]

from backends.extract.runner import ExtractOptions, Progress
from backends.extract.summary import ExtractSummary
from backends.legacy import extraction


def run_extraction(
    repo: Path,
    out_dir: Path,
    *,
    options: ExtractOptions | None = None,
    progress: Progress | None = None,
) -> ExtractSummary:
    """Stage 0 of ``repo`` into ``out_dir/evidence`` through the Hamilton extraction DAG."""
    opts = options or ExtractOptions()
    if progress is not None:
        opts = dataclasses.replace(opts, progress=progress)
    dr = driver.Builder().with_modules(extraction).build()
    result = dr.execute(
        ["extraction"], inputs={"repo": repo, "out_dir": out_dir, "extract_options": opts}
    )
    summary: ExtractSummary = result["extraction"]
    return summary
