"""Whole incremental builds as a user runs them (issue 14, acceptance), on a generated repo and
the standard library corpus.

Per corpus, each a ``build --backend rust`` through the library call the CLI makes
(``harness.gateway.build_graph_product``, options from ``[extract]`` as the CLI fills them),
with a private extraction cache (never the user's):

1. ``cold``: a fresh run folder, an empty cache (the baseline);
2. ``warm``: the same folder again, nothing changed;
3. ``rebuild_leaf``: a one-line change to the leaf module (the file the fewest others reach
   through their imports, chosen as ``test_bench_scip`` chooses it), the same folder;
4. ``rebuild_hub``: a one-line change to the hub module (the most reached), the same folder;
5. ``cold_edited``: the edited tree into a fresh folder with an empty cache ("today's cold
   build" of that tree). Its output fingerprints must equal the incremental run's (the one
   check of this module; a difference is allowed only when it is the per-file scip cache's
   CONTRACT §5.7 exception, judged by the incremental gate's own comparison).

Recorded per build: wall seconds of the call, ``run.json``'s timings (``extract_s``,
``semantic_s``, ``total_s``), the scip step (files, cached, indexed, shards; from the
extraction summary, which ``run.json`` does not carry) and the Delta versions (tables whose
``delta_version`` differs from ``version_before``, versions written). The ratios to ``cold`` are
computed from this one run and written to ``reports/bench_incremental.json``. Nothing is
asserted on time.

The synthetic repo has ``CODEANATOMY_BENCH_FILES`` files (default 500; the issue's target is
2,000). Run with ``make bench`` (benchmarks are skipped in ``make test``).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from backends.contract.spec import SpecPolicy
from backends.extract.summary import ExtractSummary, ScipStats
from harness.adapters.rust import RustAdapter
from harness.config.load import load_config
from harness.gateway import GraphProductBuildRequest, GraphProductBuildResult, build_graph_product
from harness.run.extract_options import extract_options
from harness.run.manifest import RunManifest
from tests.bench.reports import report_path
from tests.bench.test_bench_scip import _leaf_and_hub

pytestmark = pytest.mark.bench

CORPORA = ("synthetic", "stdlib")
SYNTHETIC_FILES = int(os.environ.get("CODEANATOMY_BENCH_FILES", "500"))
STEPS = ("cold", "warm", "rebuild_leaf", "rebuild_hub", "cold_edited")
RATIO_STEPS = ("warm", "rebuild_leaf", "rebuild_hub", "cold_edited")
RESULTS: dict[str, dict[str, Any]] = {}


@dataclass
class CorpusState:
    """One corpus's working tree, its incremental run folder and cache, and what was built."""

    repo: Path
    base: Path
    leaf: str = ""
    hub: str = ""
    reached: dict[str, int] = field(default_factory=dict)
    manifests: dict[str, RunManifest] = field(default_factory=dict)

    @property
    def run(self) -> Path:
        return self.base / "inc"

    @property
    def cache(self) -> Path:
        return self.base / "cache"


@pytest.fixture(scope="module", autouse=True)
def report() -> Iterator[None]:
    """Not a benchmark: after the module, this run's numbers become the ratios."""
    yield
    if not RESULTS:
        return
    for entries in RESULTS.values():
        cold = entries.get("cold", {})
        ratios: dict[str, float] = {}
        for key in RATIO_STEPS:
            if key not in entries:
                continue
            for measure in ("wall_s", "total_s"):
                if cold.get(measure):
                    ratios[f"{key}_over_cold_{measure}"] = round(
                        entries[key][measure] / cold[measure], 4
                    )
        entries["ratios"] = ratios
    report = {
        "cores": os.cpu_count(),
        "synthetic_files": SYNTHETIC_FILES,
        "load_average": os.getloadavg(),
        "corpora": RESULTS,
    }
    path = report_path("bench_incremental.json")
    path.write_text(json.dumps(report, indent=1, sort_keys=True) + "\n")
    print(json.dumps(report, indent=1, sort_keys=True))


class Corpora:
    """The corpora as ``test_bench_scip`` makes them, each made on first use in a folder of its
    own (edited in place by the steps), with its leaf and hub chosen on the unedited tree."""

    def __init__(self, factory: pytest.TempPathFactory) -> None:
        self._factory = factory
        self._states: dict[str, CorpusState] = {}

    def __getitem__(self, corpus: str) -> CorpusState:
        if corpus not in self._states:
            self._states[corpus] = self._make(corpus)
        return self._states[corpus]

    def _make(self, corpus: str) -> CorpusState:
        from harness.golden.fetch import stdlib_corpus
        from harness.golden.synthetic import generate

        base = self._factory.mktemp(f"bench_incremental_{corpus}")
        repo = base / corpus
        if corpus == "synthetic":
            generate(repo, files=SYNTHETIC_FILES, seed=0)
        else:
            stdlib_corpus(repo)
        leaf, hub, reached = _leaf_and_hub(repo)
        return CorpusState(repo=repo, base=base, leaf=leaf, hub=hub, reached=reached)


@pytest.fixture(scope="module")
def states(tmp_path_factory: pytest.TempPathFactory) -> Corpora:
    return Corpora(tmp_path_factory)


def _build(repo: Path, run: Path, cache: Path) -> tuple[float, GraphProductBuildResult, Any]:
    """One rust build of ``repo`` into ``run`` as ``codeanatomy build`` makes it, with ``cache``
    as the extraction cache: wall seconds, the result, the scip step's stats (read from the
    extraction summary the adapter returns, passed through unchanged)."""
    loaded = load_config()
    request = GraphProductBuildRequest(
        repo=repo,
        out=run,
        backend="rust",
        extract=extract_options(loaded, cache_dir=cache),
        policy=SpecPolicy(),
        config=loaded,
    )
    summaries: list[ExtractSummary] = []
    original = RustAdapter.extract

    def extract(self: RustAdapter, *args: Any, **kwargs: Any) -> ExtractSummary:
        summary = original(self, *args, **kwargs)
        summaries.append(summary)
        return summary

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CODEANATOMY_CACHE", str(cache))  # nothing may reach the user's cache
        patch.setattr(RustAdapter, "extract", extract)
        t0 = time.perf_counter()
        result = build_graph_product(request)
        wall = time.perf_counter() - t0
    return wall, result, summaries[-1].scip if summaries else None


def _record(
    corpus: str, step: str, wall: float, result: GraphProductBuildResult, scip: Any
) -> None:
    manifest = result.manifest
    tables = (*manifest.inputs, *manifest.outputs)
    changed = [t.table for t in tables if t.version_before != t.delta_version]
    written = sum(
        t.delta_version - (t.version_before if isinstance(t.version_before, int) else -1)
        for t in tables
    )
    stats = scip if isinstance(scip, ScipStats) else None
    RESULTS.setdefault(corpus, {})[step] = {
        "wall_s": round(wall, 3),
        **{k: manifest.timings.get(k) for k in ("extract_s", "semantic_s", "total_s")},
        "scip": None
        if stats is None
        else {
            "files": stats.files,
            "cached": stats.cached,
            "indexed": stats.indexed,
            "shards": stats.shards,
            "seconds": stats.seconds,
        },
        "tables": len(tables),
        "tables_changed": len(changed),
        "delta_versions_written": written,
        "changed": sorted(changed),
        "maintenance_tables": len(result.maintenance.tables) if result.maintenance else None,
        "maintenance_error": result.maintenance_error,
    }


def _edit(repo: Path, path: str, step: str) -> None:
    """A one-line change: one module-level assignment appended to ``path``."""
    file = repo / path
    text = file.read_text("utf-8")
    file.write_text(f"{text}{'' if text.endswith(chr(10)) else chr(10)}_bench_{step} = 1\n")


def _run_step(benchmark: Any, state: CorpusState, corpus: str, step: str) -> None:
    missing = [s for s in STEPS[: STEPS.index(step)] if s not in state.manifests]
    if missing:
        pytest.fail(f"{corpus}: step {step} needs the steps before it; not built: {missing}")
    if step == "rebuild_leaf":
        _edit(state.repo, state.leaf, step)
    elif step == "rebuild_hub":
        _edit(state.repo, state.hub, step)
    fresh = step in ("cold", "cold_edited")
    run = state.base / step if step == "cold_edited" else state.run
    cache = state.base / f"cache_{step}" if step == "cold_edited" else state.cache
    built: dict[str, Any] = {}

    def build() -> None:
        built["result"] = _build(state.repo, run, cache)

    benchmark.pedantic(build, rounds=1, iterations=1)
    wall, result, scip = built["result"]
    _record(corpus, step, wall, result, scip)
    if step in ("rebuild_leaf", "rebuild_hub"):
        victim = state.leaf if step == "rebuild_leaf" else state.hub
        RESULTS[corpus][step].update(changed_file=victim, files_reaching_it=state.reached[victim])
    if fresh:
        assert all(t.version_before is None for t in result.manifest.outputs), "not a fresh folder"
    state.manifests[step] = result.manifest


@pytest.mark.parametrize("corpus", CORPORA)
def test_cold_build(benchmark: Any, states: Corpora, corpus: str) -> None:
    """The baseline: a fresh run folder and an empty cache."""
    _run_step(benchmark, states[corpus], corpus, "cold")


@pytest.mark.parametrize("corpus", CORPORA)
def test_warm_rebuild(benchmark: Any, states: Corpora, corpus: str) -> None:
    """Nothing changed, the same folder and cache: no table may get a new version."""
    _run_step(benchmark, states[corpus], corpus, "warm")
    assert RESULTS[corpus]["warm"]["tables_changed"] == 0, RESULTS[corpus]["warm"]["changed"]


@pytest.mark.parametrize("corpus", CORPORA)
def test_leaf_change_rebuild(benchmark: Any, states: Corpora, corpus: str) -> None:
    """One line appended to the leaf module, then the same folder again."""
    _run_step(benchmark, states[corpus], corpus, "rebuild_leaf")


@pytest.mark.parametrize("corpus", CORPORA)
def test_hub_change_rebuild(benchmark: Any, states: Corpora, corpus: str) -> None:
    """One line appended to the hub module, then the same folder again."""
    _run_step(benchmark, states[corpus], corpus, "rebuild_hub")


@pytest.mark.parametrize("corpus", CORPORA)
def test_cold_build_of_edited_tree(benchmark: Any, states: Corpora, corpus: str) -> None:
    """Today's cold build of the edited tree; its outputs are the incremental run's."""
    state = states[corpus]
    _run_step(benchmark, state, corpus, "cold_edited")
    inc = {t.table: t.fingerprint for t in state.manifests["rebuild_hub"].outputs}
    cold = {t.table: t.fingerprint for t in state.manifests["cold_edited"].outputs}
    assert cold, "the cold build wrote no output: nothing to compare"
    assert inc.keys() == cold.keys()
    differing = sorted(name for name in cold if inc[name] != cold[name])
    RESULTS[corpus]["cold_edited"]["outputs_compared"] = len(cold)
    RESULTS[corpus]["cold_edited"]["outputs_differing"] = differing
    if differing:
        # A fingerprint covers every column; ``evidence_summary.delta_version`` names the
        # version of each evidence table read (0 in a fresh folder), so it differs by
        # construction. The incremental gate's comparison judges the rows under its policy.
        from harness.gates.incremental import compare_step, describe_differences

        _, compared, differences, exception = compare_step(
            state.run, state.base / "cold_edited", corpus
        )
        RESULTS[corpus]["cold_edited"]["gate_tables_compared"] = compared
        RESULTS[corpus]["cold_edited"]["gate_differences"] = describe_differences(differences)
        RESULTS[corpus]["cold_edited"]["contract_exception"] = exception
        assert sum(compared.values()), "the gate's comparison compared no table"
        assert not differences or exception is not None, describe_differences(differences)
