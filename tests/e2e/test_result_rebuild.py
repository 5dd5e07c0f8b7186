"""The parity Result on real runs: a rebuild of the same repository raises no false alarm, and
coverage shows every evidence source healthy; relative paths from another working directory
give the same fingerprints as absolute ones, with SCIP working (issue 12)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from backends.extract.runner import ExtractOptions
from harness.compare.policy import ParityPolicy
from harness.compare.result import judge
from harness.compare.runs import compare_runs
from harness.run.build import run_build
from harness.run.manifest import RunManifest, read_manifest
from harness.run.request import BuildRequest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).parents[2]
REPO = ROOT / "golden_repos" / "callgraph"
CLI = str(Path(sys.executable).with_name("codeanatomy"))


def _build(out: Path, cache: Path, backend: str = "legacy") -> RunManifest:
    request = BuildRequest(repo=REPO, out=out, extract=ExtractOptions(workers=2, cache_dir=cache))
    return run_build(backend, request).manifest


def test_a_rebuild_of_the_same_repo_raises_no_false_alarm(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    first, second = _build(tmp_path / "a", cache), _build(tmp_path / "b", cache)
    comparison = compare_runs(tmp_path / "a", tmp_path / "b")
    result = judge(
        subject="callgraph",
        comparison=comparison,
        primary=first,
        candidate=second,
        policy=ParityPolicy(),
    )
    assert [f for f in result.findings if f.severity != "sev3"] == [], result.findings
    assert not result.blocks
    cov = result.coverage
    assert {s.health for s in cov.sources} == {"ok"}, cov.sources
    assert cov.tables_compared >= 10
    scip = next(t for t in cov.tables if t.table == "scip")
    assert scip.primary_rows and scip.primary_rows == scip.candidate_rows


def test_relative_paths_from_another_folder_give_the_same_fingerprints(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    absolute = _build(tmp_path / "abs", cache, backend="rust")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    # A cold cache of its own: scip-python really runs with the relative paths.
    env["CODEANATOMY_CACHE"] = str(tmp_path / "cold-cache")
    proc = subprocess.run(
        [CLI, "build", os.path.relpath(REPO, elsewhere), "--out", "out/rel", "--backend", "rust"],
        cwd=elsewhere,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    relative = read_manifest(elsewhere / "out" / "rel" / "run.json")
    assert "SCIP_FAILED" not in relative.warnings_by_code
    assert "SCIP_UNAVAILABLE" not in relative.warnings_by_code
    prints = {o.table: o.fingerprint for o in relative.outputs}
    assert prints == {o.table: o.fingerprint for o in absolute.outputs}
    scip_rows = {e.table: e.rows for e in relative.inputs}["scip"]
    assert scip_rows > 0, json.dumps(relative.warnings_by_code)
