"""Stage-0 benchmarks (pytest-benchmark), on the synthetic repo and on a real ~700-file corpus.

Targets (issue: foundation): cold extraction within 1.5x of the sum of the single-parser
costs divided by the two cores; warm rerun under 10% of cold. Ratios are computed from the
numbers measured in this one run and written to ``reports/bench_extract.json``.

Run with ``make bench`` (benchmarks are skipped in ``make test``).
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import pytest

from backends.extract import repo_scan
from backends.extract.registry import PER_FILE, per_file_extractor
from backends.extract.runner import ExtractOptions, extract
from backends.extract.source import SourceFile
from tests.bench.reports import report_path

ROOT = Path(__file__).parents[2]
RESULTS: dict[str, dict[str, Any]] = {}
CORPORA = ("synthetic", "stdlib")


@pytest.fixture(scope="module")
def corpora(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    from harness.golden.fetch import stdlib_corpus
    from harness.golden.synthetic import generate

    base = tmp_path_factory.mktemp("bench")
    synthetic = base / "synthetic"
    generate(synthetic, files=2000, seed=0)
    return {"synthetic": synthetic, "stdlib": stdlib_corpus(base / "stdlib")}


def _sources(repo: Path) -> list[SourceFile]:
    return [
        SourceFile(path=f.path, module=f.row["module"], is_package=f.row["is_package"], text=f.text)
        for f in repo_scan.scan(repo)
        if f.text is not None
    ]


def _record(corpus: str, key: str, seconds: float, files: int | None = None) -> None:
    entry: dict[str, Any] = {"seconds": round(seconds, 3)}
    if files:
        entry["files_per_s"] = round(files / seconds, 1)
    RESULTS.setdefault(corpus, {})[key] = entry


@pytest.mark.parametrize("corpus", CORPORA)
@pytest.mark.parametrize("extractor", PER_FILE)
def test_single_parser_cost(
    benchmark: Any, corpora: dict[str, Path], corpus: str, extractor: str
) -> None:
    """One extractor alone, in one process, over every file of the corpus."""
    sources = _sources(corpora[corpus])
    module = per_file_extractor(extractor)

    def run() -> None:
        for src in sources:
            module.extract(
                SourceFile(path=src.path, module=src.module, is_package=False, text=src.text)
            )

    benchmark.pedantic(run, rounds=1, iterations=1)
    _record(corpus, f"single:{extractor}", benchmark.stats.stats.mean, len(sources))


@pytest.mark.parametrize("corpus", CORPORA)
def test_single_scip_cost(
    benchmark: Any, corpora: dict[str, Path], corpus: str, tmp_path: Path
) -> None:
    from backends.extract import scip

    texts = {s.path: s.text for s in _sources(corpora[corpus])}
    benchmark.pedantic(
        lambda: scip.extract_repo(corpora[corpus], texts, tmp_path / "scip"), rounds=1, iterations=1
    )
    _record(corpus, "single:scip", benchmark.stats.stats.mean, len(texts))


@pytest.mark.parametrize("corpus", CORPORA)
def test_cold_and_warm_extraction(
    benchmark: Any, corpora: dict[str, Path], corpus: str, tmp_path: Path
) -> None:
    """Full Stage 0 with the default workers: cold (empty cache) then warm (same cache)."""
    cache = tmp_path / "cache"
    t0 = time.perf_counter()
    cold = extract(corpora[corpus], tmp_path / "cold", ExtractOptions(cache_dir=cache))
    cold_s = time.perf_counter() - t0
    warm = benchmark.pedantic(
        lambda: extract(
            corpora[corpus], tmp_path / "warm", ExtractOptions(workers=2, cache_dir=cache)
        ),
        rounds=1,
        iterations=1,
    )
    assert warm.tables == cold.tables
    _record(corpus, "cold", cold_s, cold.python_files_ok)
    _record(corpus, "warm", benchmark.stats.stats.mean, cold.python_files_ok)
    RESULTS[corpus]["cold_stage_seconds"] = cold.seconds


@pytest.fixture(scope="module", autouse=True)
def _write_ratios() -> Any:
    """Not a benchmark: after the module, turns this run's numbers into the target ratios."""
    yield
    if not RESULTS:
        return
    report: dict[str, Any] = {"cores": os.cpu_count(), "corpora": RESULTS}
    for entries in RESULTS.values():
        singles = [v["seconds"] for k, v in entries.items() if k.startswith("single:")]
        if "cold" not in entries or len(singles) < len(PER_FILE) + 1:
            continue
        ideal = sum(singles) / 2
        entries["ratios"] = {
            "cold_over_ideal_parallel": round(entries["cold"]["seconds"] / ideal, 3),
            "warm_over_cold": round(entries["warm"]["seconds"] / entries["cold"]["seconds"], 4),
        }
    out = report_path("bench_extract.json")
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(report, indent=1, sort_keys=True))
    print(json.dumps(report, indent=1, sort_keys=True))
