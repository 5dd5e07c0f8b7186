"""Where the benchmarks write their reports: beside ``[gates].bench_json`` (the perf gate reads
them there), found from the working folder's configuration as every command finds it."""

from __future__ import annotations

from pathlib import Path

from harness.config.load import load_config
from harness.gates.gates import bench_dir


def report_path(name: str) -> Path:
    """``name`` in the benchmark reports folder (created)."""
    folder = bench_dir(load_config())
    folder.mkdir(parents=True, exist_ok=True)
    return folder / name
