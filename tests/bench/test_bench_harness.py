"""Benchmarks of the parity harness (issue: harness). Nothing here asserts on time: the numbers
and ratios measured in this one run are written to ``reports/bench_harness.json``.

- fingerprint throughput of the Rust kernel on a 5M-row table (target >= 30M rows/s on 2
  cores; FACTS.md measured 3M rows/s for a DataFusion SQL sha256 sum), with the pure-Python
  reference on a slice for scale;
- keyed diff of two 5M-row Delta tables with 1% changed rows (target <= 5 s);
- a shadow run against the two backends run alone, cold (no extraction cache), on a synthetic
  repository (target <= 0.8x the sum: the shadow run extracts once and shares Stage 0).

Run with ``make bench``.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from deltalake import DeltaTable, write_deltalake

from backends.contract.fingerprint import reference_row_hash_sum
from backends.extract.runner import ExtractOptions
from harness.compare.diff import keyed_diff
from harness.run.build import run_build
from harness.run.request import BuildRequest
from harness.shadow.runner import ShadowOptions, run_shadow
from tests.bench.reports import report_path

engine = pytest.importorskip("backends.rust", reason="the Rust extension is not built")

ROOT = Path(__file__).parents[2]
RESULTS: dict[str, Any] = {}
ROWS = 5_000_000
SQL_SHA256_ROWS_PER_S = 3.0e6  # FACTS.md: DataFusion SQL sum of sha256 prefixes, 2 cores


@pytest.fixture(scope="module", autouse=True)
def report() -> Iterator[None]:
    """Write the measured numbers after the module's benchmarks ran."""
    yield
    fp = RESULTS.get("fingerprint", {})
    if "rows_per_s" in fp:
        fp["vs_sql_sha256"] = round(fp["rows_per_s"] / SQL_SHA256_ROWS_PER_S, 1)
        fp["target_rows_per_s"] = 30e6
    shadow = RESULTS.get("shadow", {})
    if {"shadow_s", "legacy_alone_s", "rust_alone_s"} <= shadow.keys():
        total = shadow["legacy_alone_s"] + shadow["rust_alone_s"]
        shadow["ratio_to_sum"] = round(shadow["shadow_s"] / total, 3)
        shadow["target_ratio"] = 0.8
    path = report_path("bench_harness.json")
    path.parent.mkdir(exist_ok=True)
    path.write_text(json.dumps(RESULTS, indent=2, sort_keys=True) + "\n")
    print(json.dumps(RESULTS, indent=2, sort_keys=True))


def _edges(rows: int, seed: int) -> pa.Table:
    """A cpg_edges-like table: 6 columns, about 100 bytes per row, unique (src, dst, kind)."""
    rng = random.Random(seed)
    ids = [f"{rng.getrandbits(64):016x}" for _ in range(rows // 25)]
    kinds = ["CALLS", "REFERENCES", "CONTAINS", "DEFINES", "IMPORTS"]
    return pa.table(
        {
            "src_id": pa.array([ids[i % len(ids)] for i in range(rows)]),
            "dst_id": pa.array([ids[(i * 7 + i // len(ids)) % len(ids)] for i in range(rows)]),
            "kind": pa.array([kinds[(i // len(ids)) % 5] for i in range(rows)]),
            "confidence": pa.array([0.7 + (i % 4) / 10 for i in range(rows)], pa.float64()),
            "path": pa.array([f"pkg/sub_{i % 997}/module_{i % 89}.py" for i in range(rows)]),
            "bstart": pa.array(range(rows), pa.int64()),
        }
    )


@pytest.fixture(scope="module")
def edges() -> pa.Table:
    return _edges(ROWS, seed=0)


def test_fingerprint_kernel(benchmark: Any, edges: pa.Table) -> None:
    """The §14 kernel over a 5M-row table, every core."""
    result = benchmark.pedantic(lambda: engine.row_hash_sum(edges), rounds=5, iterations=1)
    assert result[0] == ROWS
    median = benchmark.stats.stats.median
    sample = edges.slice(0, 50_000)
    started = time.perf_counter()
    assert reference_row_hash_sum(sample) == engine.row_hash_sum(sample)
    reference_s = time.perf_counter() - started
    RESULTS["fingerprint"] = {
        "rows": ROWS,
        "arrow_mb": round(edges.nbytes / 1e6, 1),
        "median_s": round(median, 4),
        "rows_per_s": round(ROWS / median),
        "single_thread_rows_per_s": round(ROWS / _timed(lambda: engine.row_hash_sum(edges, 1))),
        "python_reference_rows_per_s": round(sample.num_rows / reference_s),
    }


def _timed(fn: Any) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


@pytest.fixture(scope="module")
def diff_tables(edges: pa.Table, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Two Delta tables: the edges, and the edges with 1% of rows changed in ``confidence``."""
    base = tmp_path_factory.mktemp("bench_diff")
    a, b = base / "a", base / "b"
    write_deltalake(str(a), edges)
    changed = pa.array([i % 100 == 0 for i in range(ROWS)])
    confidence = pa.compute.if_else(changed, pa.scalar(0.1), edges.column("confidence"))
    write_deltalake(str(b), edges.set_column(3, "confidence", confidence))
    return a, b


def test_keyed_diff(benchmark: Any, diff_tables: tuple[Path, Path], edges: pa.Table) -> None:
    """Keyed row diff (DataFusion) of two 5M-row tables with 1% changed rows."""
    a, b = diff_tables
    key = ("src_id", "dst_id", "kind", "bstart")

    def run() -> Any:
        return keyed_diff(DeltaTable(str(a)), DeltaTable(str(b)), key, edges.schema)

    diff = benchmark.pedantic(run, rounds=3, iterations=1)
    assert diff.changed == ROWS // 100
    assert diff.added == diff.removed == 0
    RESULTS["keyed_diff"] = {
        "rows": ROWS,
        "changed_rows": diff.changed,
        "median_s": round(benchmark.stats.stats.median, 3),
        "target_s": 5.0,
    }


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from harness.golden.synthetic import generate

    path = tmp_path_factory.mktemp("bench_shadow") / "synthetic"
    generate(path, files=200, seed=1)
    return path


def test_shadow_vs_two_backends_alone(repo: Path, tmp_path: Path, benchmark: Any) -> None:
    """Cold (no extraction cache): legacy alone, rust alone, then the shadow run of both."""
    cold = ExtractOptions(cache_dir=None)
    legacy_s = _timed(
        lambda: run_build("legacy", BuildRequest(repo=repo, out=tmp_path / "l", extract=cold))
    )
    rust_s = _timed(
        lambda: run_build("rust", BuildRequest(repo=repo, out=tmp_path / "r", extract=cold))
    )
    request = BuildRequest(repo=repo, out=tmp_path / "s", extract=cold, views=True)
    outcome = benchmark.pedantic(
        lambda: run_shadow(request, "legacy", "rust", ShadowOptions(order="primary_first")),
        rounds=1,
        iterations=1,
    )
    assert outcome.comparison is not None
    RESULTS["shadow"] = {
        "files": 200,
        "legacy_alone_s": round(legacy_s, 2),
        "rust_alone_s": round(rust_s, 2),
        "shadow_s": round(benchmark.stats.stats.median, 2),
        "shadow_extract_s": round(outcome.extract_s, 2),
        "severity": outcome.result.severity,
    }
