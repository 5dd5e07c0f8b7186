"""``codeanatomy build`` end to end with both backends on every golden repo: every fact of
expected.json holds in the outputs; the hostile repo completes with diagnostics; the two
backends agree table by table (the parity the harness gates on)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from backends.extract.runner import ExtractOptions
from harness.compare.runs import compare_runs
from harness.golden.check import check_facts
from harness.golden.expected import load_expected
from harness.run.build import run_build
from harness.run.manifest import RunManifest
from harness.run.request import BuildRequest

ROOT = Path(__file__).parents[2]
GOLDEN = ROOT / "golden_repos"
REPOS = sorted(p.name for p in GOLDEN.iterdir() if (p / "expected.json").is_file())
BACKENDS = ("legacy", "rust")

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def builds(
    tmp_path_factory: pytest.TempPathFactory,
) -> dict[tuple[str, str], tuple[Path, RunManifest]]:
    """Every golden repo built once by each backend (the extraction cache is shared)."""
    base = tmp_path_factory.mktemp("builds")
    cache = base / "cache"
    out: dict[tuple[str, str], tuple[Path, RunManifest]] = {}
    for name in REPOS:
        repo = base / "repos" / name
        shutil.copytree(GOLDEN / name, repo, symlinks=True)
        for backend in BACKENDS:
            run_dir = base / "runs" / backend / name
            request = BuildRequest(
                repo=repo,
                out=run_dir,
                extract=ExtractOptions(workers=2, cache_dir=cache),
                views=True,
            )
            out[(backend, name)] = (run_dir, run_build(backend, request).manifest)
    return out


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name", REPOS)
def test_every_expected_fact_holds(
    builds: dict[tuple[str, str], tuple[Path, RunManifest]], backend: str, name: str
) -> None:
    run_dir, _ = builds[(backend, name)]
    expected = load_expected(GOLDEN / name / "expected.json")
    missing = check_facts(expected, run_dir / "outputs", run_dir / "evidence")
    assert not missing, json.dumps(missing, indent=1, ensure_ascii=False)


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_hostile_repo_completes_with_diagnostics(
    builds: dict[tuple[str, str], tuple[Path, RunManifest]], backend: str
) -> None:
    _, manifest = builds[(backend, "hostile")]
    assert {o.table for o in manifest.outputs} == {
        "cpg_nodes",
        "cpg_edges",
        "cpg_props",
        "diagnostics",
        "evidence_summary",
    }
    for code in ("SCAN_SYMLINK_ESCAPE", "SCAN_BINARY_FILE", "EXTRACT_SYNTAX_ERROR"):
        assert manifest.warnings_by_code.get(code, 0) >= 1, code


@pytest.mark.parametrize("name", REPOS)
def test_the_two_backends_agree_stage_by_stage(
    builds: dict[tuple[str, str], tuple[Path, RunManifest]], name: str
) -> None:
    legacy_dir, _ = builds[("legacy", name)]
    rust_dir, _ = builds[("rust", name)]
    comparison = compare_runs(legacy_dir, rust_dir)
    bad = [
        (t.stage, t.table, t.severity, t.reasons, t.diff.samples[:3] if t.diff else None)
        for t in comparison.tables
        if t.severity != "ok"
    ]
    assert not bad, json.dumps(bad, indent=1, default=str)
