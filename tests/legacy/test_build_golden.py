"""End to end: a legacy build (the harness's timed build through the legacy adapter) of
golden_repos/callgraph shows every expected fact, and its outputs are deterministic across
runs and extraction worker counts (CONTRACT §14)."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest
from deltalake import DeltaTable

from backends.contract.fingerprint import fingerprint
from backends.contract.schemas import EVIDENCE_TABLES, OUTPUT_TABLES
from backends.contract.views import default_spec, evidence_bindings
from backends.extract.runner import ExtractOptions
from backends.legacy import run_semantics
from harness.golden.check import check_facts
from harness.golden.expected import load_expected
from harness.run.build import execute
from harness.run.request import BackendBuild, BuildRequest

REPO = Path(__file__).resolve().parents[2] / "golden_repos" / "callgraph"


def build(out: Path, options: ExtractOptions) -> BackendBuild:
    return execute("legacy", BuildRequest(repo=REPO, out=out, extract=options))


def _fingerprints(outputs: Path) -> dict[str, str]:
    return {
        t: fingerprint(pa.table(DeltaTable(str(outputs / t)).to_pyarrow_table()))
        for t in OUTPUT_TABLES
    }


@pytest.fixture(scope="module")
def one_worker(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, BackendBuild]:
    out = tmp_path_factory.mktemp("w1")
    return out, build(out, ExtractOptions(workers=1))


def test_build_shows_every_expected_fact(one_worker: tuple[Path, BackendBuild]) -> None:
    out, _ = one_worker
    expected = load_expected(REPO / "expected.json")
    assert check_facts(expected, out / "outputs", out / "evidence") == []


def test_build_reports_outputs_and_timings(one_worker: tuple[Path, BackendBuild]) -> None:
    _, result = one_worker
    assert [o.table for o in result.result.outputs] == list(OUTPUT_TABLES)
    assert result.result.backend == "legacy"
    assert set(result.timings) == {"extract_s", "semantic_s", "total_s"}
    assert {m.view for m in result.result.metrics} == set(result.result.view_rows)


def test_semantic_rerun_has_identical_fingerprints(
    one_worker: tuple[Path, BackendBuild], tmp_path: Path
) -> None:
    out, _ = one_worker
    evidence = out / "evidence"
    versions = {n: int(DeltaTable(str(evidence / n)).version()) for n in EVIDENCE_TABLES}
    run_semantics(default_spec(evidence_bindings(str(evidence), versions)), tmp_path / "outputs")
    assert _fingerprints(tmp_path / "outputs") == _fingerprints(out / "outputs")


def test_worker_count_and_file_order_do_not_change_outputs(
    one_worker: tuple[Path, BackendBuild], tmp_path: Path
) -> None:
    out, _ = one_worker
    build(tmp_path, ExtractOptions(workers=2, file_order_seed=7))
    assert _fingerprints(tmp_path / "outputs") == _fingerprints(out / "outputs")
