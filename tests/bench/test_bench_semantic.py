"""Semantic-stage and end-to-end benchmarks of both backends on the synthetic 2,000-file repo.

Both backends read the SAME evidence (one extraction, pinned Delta versions) through the same
workload spec. Target (issue: new engine): the Rust engine's semantic stage at least 10x faster
than the legacy backend's. The ratio is computed from the medians measured in this one run and
written to ``reports/bench_semantic.json``.

Run with ``make bench`` (benchmarks are skipped in ``make test``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from backends.contract.spec import SemanticExecutionSpec, SpecPolicy
from backends.extract.cache import default_cache_dir
from backends.extract.runner import ExtractOptions, extract
from harness.adapters import adapter
from harness.adapters.common import workload_spec
from harness.run.build import execute
from harness.run.request import BuildRequest
from tests.bench.reports import report_path

ROOT = Path(__file__).parents[2]
RESULTS: dict[str, Any] = {}
BACKENDS = ("legacy", "rust")


@pytest.fixture(scope="module", autouse=True)
def report() -> Iterator[None]:
    """Write the ratios after the module's benchmarks ran (a plain test would be skipped by
    ``--benchmark-only``). Nothing is asserted on time."""
    yield
    semantic = RESULTS.get("semantic_s", {})
    if {"legacy", "rust"} <= semantic.keys():
        RESULTS["semantic_speedup"] = round(semantic["legacy"] / semantic["rust"], 2)
    e2e = RESULTS.get("end_to_end_s", {})
    if {"legacy", "rust"} <= e2e.keys():
        RESULTS["end_to_end_speedup"] = round(e2e["legacy"] / e2e["rust"], 2)
    RESULTS["target_semantic_speedup"] = 10
    path = report_path("bench_semantic.json")
    path.parent.mkdir(exist_ok=True)
    path.write_text(json.dumps(RESULTS, indent=2, sort_keys=True) + "\n")
    print(json.dumps(RESULTS, indent=2, sort_keys=True))


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from harness.golden.synthetic import generate

    repo = tmp_path_factory.mktemp("bench_semantic") / "synthetic"
    generate(repo, files=2000, seed=0)
    return repo


@pytest.fixture(scope="module")
def evidence(synthetic: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("bench_semantic_evidence")
    extract(synthetic, out, ExtractOptions(cache_dir=default_cache_dir()))
    return out / "evidence"


@pytest.fixture(scope="module")
def spec(evidence: Path) -> SemanticExecutionSpec:
    return workload_spec(evidence, SpecPolicy())


@pytest.mark.parametrize("backend", BACKENDS)
def test_semantic_stage(
    benchmark: Any, spec: SemanticExecutionSpec, backend: str, tmp_path: Path
) -> None:
    """The semantic stage alone: pinned evidence in, five Delta outputs committed."""
    engine = adapter(backend)
    rounds = 3 if backend == "legacy" else 5
    counter = iter(range(rounds + 1))

    def run() -> None:
        engine.run_semantics(spec, tmp_path / f"out{next(counter)}")

    benchmark.pedantic(run, rounds=rounds, iterations=1)
    RESULTS.setdefault("semantic_s", {})[backend] = round(benchmark.stats.stats.median, 3)


@pytest.mark.parametrize("backend", BACKENDS)
def test_end_to_end_build(benchmark: Any, synthetic: Path, backend: str, tmp_path: Path) -> None:
    """Extraction (warm cache) + semantics + commits, as ``codeanatomy build`` runs it."""
    request = BuildRequest(
        repo=synthetic, out=tmp_path / "run", extract=ExtractOptions(cache_dir=default_cache_dir())
    )
    benchmark.pedantic(lambda: execute(backend, request), rounds=1, iterations=1)
    RESULTS.setdefault("end_to_end_s", {})[backend] = round(benchmark.stats.stats.median, 3)
