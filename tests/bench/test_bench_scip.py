"""Sharded and per-file-cached scip (issue 14, parts 1 and 2), on a generated repo and the
standard library corpus.

Per corpus, full Stage-0 extractions: cold with one scip indexer, cold with one per core
(the default is one per two cores, ``shard.shard_count``); then, with the cache of the first
cold run, a rebuild after a one-line change to a leaf module (the file the fewest others
reach through their imports) and to a hub module (the one the most others reach). The
ratios are computed from the numbers of this one run and written to
``reports/bench_scip.json``, with the files scip indexed again. Nothing is asserted on time.

Run with ``make bench`` (benchmarks are skipped in ``make test``).
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from backends.extract import repo_scan
from backends.extract.runner import (
    ExtractOptions,
    ExtractRun,
    external_stage,
    imports_stage,
    per_file_stage,
    scan_stage,
    write_stage,
)
from backends.extract.scip.closure import ImportGraph
from backends.extract.scip.stage import parsed_refs
from tests.bench.reports import report_path

RESULTS: dict[str, dict[str, Any]] = {}
CORPORA = ("synthetic", "stdlib")
SYNTHETIC_FILES = 500


@pytest.fixture(scope="module", autouse=True)
def report() -> Iterator[None]:
    """Not a benchmark: after the module, this run's numbers become the ratios."""
    yield
    if not RESULTS:
        return
    for entries in RESULTS.values():
        cold = entries.get("cold_1_shard", {}).get("seconds")
        ratios: dict[str, float] = {}
        for key in ("cold_sharded", "rebuild_leaf", "rebuild_hub"):
            if cold and key in entries:
                ratios[f"{key}_over_cold_1_shard"] = round(entries[key]["seconds"] / cold, 3)
        entries["ratios"] = ratios
    report = {"cores": os.cpu_count(), "corpora": RESULTS}
    path = report_path("bench_scip.json")
    path.write_text(json.dumps(report, indent=1, sort_keys=True) + "\n")
    print(json.dumps(report, indent=1, sort_keys=True))


@pytest.fixture(scope="module")
def corpora(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    from harness.golden.fetch import stdlib_corpus
    from harness.golden.synthetic import generate

    base = tmp_path_factory.mktemp("bench_scip")
    synthetic = base / "synthetic"
    generate(synthetic, files=SYNTHETIC_FILES, seed=0)
    return {"synthetic": synthetic, "stdlib": stdlib_corpus(base / "stdlib")}


def _extract(repo: Path, out: Path, **options: Any) -> tuple[float, ExtractRun]:
    t0 = time.perf_counter()
    run = per_file_stage(scan_stage(repo, out, ExtractOptions(**options)))
    write_stage(external_stage(imports_stage(run)))
    return time.perf_counter() - t0, run


def _record(corpus: str, key: str, seconds: float, run: ExtractRun, **extra: Any) -> None:
    stats = run.scip
    RESULTS.setdefault(corpus, {})[key] = {
        "seconds": round(seconds, 3),
        "stage1_s": round(run.seconds.get("stage1", 0.0), 3),
        "scip_s": stats.seconds if stats else None,
        "scip_indexed": stats.indexed if stats else None,
        "scip_cached": stats.cached if stats else None,
        "scip_shards": stats.shards if stats else None,
        **extra,
    }


def _leaf_and_hub(repo: Path) -> tuple[str, str, dict[str, int]]:
    """The file the fewest / the most other files reach through their imports."""
    texts = {f.path: f.text for f in repo_scan.scan(repo) if f.text is not None}
    refs = {p: r for p, t in texts.items() if (r := parsed_refs(p, t)) is not None}
    graph = ImportGraph.build(texts, refs, refs)
    reached: dict[str, int] = dict.fromkeys(texts, 0)
    for path in texts:
        for dep in graph.closure(path):
            reached[dep] += 1
    py = sorted(p for p in texts if p.endswith(".py"))
    leaf = min(py, key=lambda p: (reached[p], p))
    hub = max(py, key=lambda p: (reached[p], p))
    return leaf, hub, reached


@pytest.fixture(scope="module")
def cold_caches(
    corpora: dict[str, Path], tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Path]:
    """Per corpus, the cache a cold extraction with one indexer leaves (its time recorded)."""
    caches: dict[str, Path] = {}
    for corpus, repo in corpora.items():
        base = tmp_path_factory.mktemp(f"cold_{corpus}")
        seconds, run = _extract(repo, base / "run", cache_dir=base / "cache", scip_shards=1)
        _record(corpus, "cold_1_shard", seconds, run)
        caches[corpus] = base / "cache"
    return caches


@pytest.mark.parametrize("corpus", CORPORA)
def test_cold_extraction_one_indexer_per_core(
    benchmark: Any,
    corpora: dict[str, Path],
    cold_caches: dict[str, Path],
    corpus: str,
    tmp_path: Path,
) -> None:
    """Against ``cold_1_shard`` (the fixture): the same cold extraction, one indexer per core."""
    sharded: dict[str, Any] = {}

    def cold_sharded() -> None:
        sharded["result"] = _extract(
            corpora[corpus],
            tmp_path / "many",
            cache_dir=tmp_path / "cache",
            scip_shards=os.cpu_count() or 1,
        )

    benchmark.pedantic(cold_sharded, rounds=1, iterations=1)
    _record(corpus, "cold_sharded", benchmark.stats.stats.mean, sharded["result"][1])


@pytest.mark.parametrize("kind", ["leaf", "hub"])
@pytest.mark.parametrize("corpus", CORPORA)
def test_one_file_change_rebuild(
    benchmark: Any,
    corpora: dict[str, Path],
    cold_caches: dict[str, Path],
    corpus: str,
    kind: str,
    tmp_path: Path,
) -> None:
    """A one-line change, then Stage 0 again with the cold run's cache."""
    repo = tmp_path / corpus  # the same folder name: the same scip project name
    shutil.copytree(corpora[corpus], repo, symlinks=True)
    leaf, hub, reached = _leaf_and_hub(repo)
    victim = leaf if kind == "leaf" else hub
    path = repo / victim
    path.write_text(path.read_text("utf-8") + "\n\ndef _bench_added() -> int:\n    return 1\n")
    rebuilt: dict[str, Any] = {}

    def rebuild() -> None:
        rebuilt["result"] = _extract(repo, tmp_path / "rebuild", cache_dir=cold_caches[corpus])

    benchmark.pedantic(rebuild, rounds=1, iterations=1)
    _record(
        corpus,
        f"rebuild_{kind}",
        benchmark.stats.stats.mean,
        rebuilt["result"][1],
        changed=victim,
        files_reaching_it=reached[victim],
    )
