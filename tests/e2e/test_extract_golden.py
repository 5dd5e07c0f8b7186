"""Stage 0 end to end on every golden repo: nine tables, every file accounted for, the
hand-written facts of expected.json present in the evidence, hostile input survived."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from backends.contract.schemas import EVIDENCE_TABLES, EXTRACTORS
from backends.extract.delta import read_table
from backends.extract.runner import ExtractOptions, extract
from backends.extract.summary import ExtractSummary

ROOT = Path(__file__).parents[2]
GOLDEN = ROOT / "golden_repos"
REPOS = sorted(p.name for p in GOLDEN.iterdir() if (p / "expected.json").is_file())
SCIP_BIN = ROOT / "tools/scip/node_modules/.bin/scip-python"

pytestmark = pytest.mark.slow


def _copy_repo(name: str, dest: Path) -> Path:
    target = dest / name
    shutil.copytree(GOLDEN / name, target, symlinks=True)
    return target


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[ExtractSummary, Path]]:
    """One extraction per golden repo, shared by the tests of this module."""
    base = tmp_path_factory.mktemp("golden")
    out: dict[str, tuple[ExtractSummary, Path]] = {}
    for name in REPOS:
        repo = _copy_repo(name, base / "repos")
        run_dir = base / "runs" / name
        summary = extract(repo, run_dir, ExtractOptions(workers=2, cache_dir=base / "cache"))
        out[name] = (summary, run_dir)
    return out


def _evidence(run_dir: Path, table: str) -> pa.Table:
    return read_table(run_dir / "evidence" / table)


@pytest.mark.parametrize("name", REPOS)
def test_all_evidence_tables_are_written_with_the_contract_schema(
    runs: dict[str, tuple[ExtractSummary, Path]], name: str
) -> None:
    _, run_dir = runs[name]
    for table_name, contract in EVIDENCE_TABLES.items():
        table = _evidence(run_dir, table_name)
        assert table.schema.names == contract.schema.names, table_name


@pytest.mark.parametrize("name", REPOS)
def test_every_file_is_accounted_for(
    runs: dict[str, tuple[ExtractSummary, Path]], name: str
) -> None:
    summary, _ = runs[name]
    assert summary.all_accounted, {k: v.unaccounted for k, v in summary.extractors.items()}


@pytest.mark.parametrize("name", [r for r in REPOS if r != "hostile"])
def test_every_extractor_yields_rows(
    runs: dict[str, tuple[ExtractSummary, Path]], name: str
) -> None:
    summary, _ = runs[name]
    for extractor in EXTRACTORS:
        if extractor == "scip" and not SCIP_BIN.exists():
            pytest.fail("scip-python is not installed: run `make setup`")
        if extractor == "python_external" and not _has_external_imports(name):
            continue
        assert summary.tables[extractor] > 0, f"{extractor} wrote no rows for {name}"


def _has_external_imports(name: str) -> bool:
    facts = _facts(name)
    return any(f["fact"] == "external" for f in facts) or name != "packages"


def _facts(name: str) -> list[dict[str, Any]]:
    data = json.loads((GOLDEN / name / "expected.json").read_text("utf-8"))
    facts: list[dict[str, Any]] = data["facts"]
    return facts


def _defs(run_dir: Path) -> set[tuple[str, str]]:
    scan = {r["path"]: r["module"] for r in _evidence(run_dir, "repo_scan").to_pylist()}
    ast_rows = _evidence(run_dir, "ast").to_pylist()
    out = set()
    for row in ast_rows:
        if row["kind"] in ("class", "function") and scan.get(row["path"]):
            kind = "CLASS" if row["kind"] == "class" else "FUNCTION"
            out.add((kind, f"{scan[row['path']]}.{row['qualname']}"))
        if row["kind"] == "module" and scan.get(row["path"]):
            out.add(("MODULE", scan[row["path"]]))
    return out


@pytest.mark.parametrize("name", REPOS)
def test_expected_facts_visible_in_evidence(
    runs: dict[str, tuple[ExtractSummary, Path]], name: str
) -> None:
    """Node, import, external and diagnostic facts are checkable at the evidence level;
    edge facts are checked against the CPG outputs by the backend tests."""
    _, run_dir = runs[name]
    defs = _defs(run_dir)
    imports = _evidence(run_dir, "python_imports").to_pylist()
    external = _evidence(run_dir, "python_external").to_pylist()
    diags = _evidence(run_dir, "extract_diagnostics").to_pylist()
    missing = []
    for fact in _facts(name):
        kind = fact["fact"]
        if kind == "node" and fact["kind"] in ("CLASS", "FUNCTION", "MODULE"):
            ok = (fact["kind"], fact["qualname"]) in defs
        elif kind == "import":
            ok = any(
                r["path"] == fact["path"]
                and ("." * r["level"] + (r["module"] or "")) == fact["module"]
                and r["name"] == fact.get("name")
                and r["target_kind"] == fact["target_kind"]
                and r["resolved_path"] == fact.get("resolved_path")
                for r in imports
            )
        elif kind == "external":
            ok = any(
                r["module"] == fact["module"] and r["classification"] == fact["classification"]
                for r in external
            )
        elif kind == "diagnostic":
            ok = any(r["path"] == fact["path"] and r["code"] == fact["code"] for r in diags)
        else:
            continue
        if not ok:
            missing.append(fact)
    assert not missing, json.dumps(missing, indent=1, ensure_ascii=False)


def test_hostile_repo_never_imports_and_never_leaves_the_root(tmp_path: Path) -> None:
    repo = _copy_repo("hostile", tmp_path)
    sentinel = tmp_path / "SENTINEL"
    locked = repo / "unreadable_at_test_time.py"
    locked.chmod(0)
    env = {**os.environ, "CODEANATOMY_SENTINEL_PATH": str(sentinel)}
    cmd = [sys.executable, "-m", "harness.cli", "extract", str(repo), "--out", str(tmp_path / "o")]
    cmd += ["--no-cache", "--json"]
    if os.geteuid() == 0:
        # root reads any file whatever its mode: drop the capabilities that allow it.
        caps = "-dac_override,-dac_read_search"
        cmd = ["setpriv", f"--bounding-set={caps}", f"--inh-caps={caps}", *cmd]
    proc = subprocess.run(
        cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=900, check=False
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    summary = json.loads(proc.stdout)
    assert not sentinel.exists()
    assert not Path("/tmp/codeanatomy_sentinel_imported").exists()
    codes = summary["warnings_by_code"]
    for code in ("SCAN_UNREADABLE", "SCAN_SYMLINK_ESCAPE", "SCAN_SYMLINK_LOOP", "SCAN_BINARY_FILE"):
        assert codes.get(code, 0) >= 1, code
    assert codes.get("EXTRACT_SYNTAX_ERROR", 0) >= 1
    scan = read_table(tmp_path / "o" / "evidence" / "repo_scan").to_pylist()
    statuses = {r["path"]: r["status"] for r in scan}
    assert statuses["unreadable_at_test_time.py"] == "unreadable"


if __name__ == "__main__":  # pragma: no cover
    sys.exit(pytest.main([__file__, "-q"]))
