"""Same inputs, same evidence: across runs, worker counts, file orders and the cache."""

from __future__ import annotations

import shutil
from pathlib import Path

import pyarrow as pa
import pytest

from backends.contract.schemas import EVIDENCE_TABLES
from backends.extract.delta import read_table
from backends.extract.runner import ExtractOptions, extract

ROOT = Path(__file__).parents[2]
pytestmark = pytest.mark.slow

# scip rows are compared too; diagnostics messages are deterministic by construction.
TABLES = sorted(EVIDENCE_TABLES)


def _content(run_dir: Path) -> dict[str, pa.Table]:
    out = {}
    for name in TABLES:
        table = read_table(run_dir / "evidence" / name)
        keys = [(k, "ascending") for k in EVIDENCE_TABLES[name].primary_key]
        out[name] = table.sort_by(keys) if table.num_rows else table
    return out


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    dest = tmp_path_factory.mktemp("det") / "callgraph"
    shutil.copytree(ROOT / "golden_repos" / "callgraph", dest, symlinks=True)
    return dest


def test_worker_count_and_file_order_do_not_change_evidence(repo: Path, tmp_path: Path) -> None:
    a = extract(repo, tmp_path / "a", ExtractOptions(workers=1, cache_dir=None))
    b = extract(repo, tmp_path / "b", ExtractOptions(workers=2, cache_dir=None, file_order_seed=7))
    assert a.tables == b.tables
    ca, cb = _content(tmp_path / "a"), _content(tmp_path / "b")
    for name in TABLES:
        assert ca[name].equals(cb[name]), name


def test_warm_run_hits_the_cache_and_gives_identical_rows(repo: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    cold = extract(repo, tmp_path / "cold", ExtractOptions(workers=2, cache_dir=cache))
    warm = extract(repo, tmp_path / "warm", ExtractOptions(workers=2, cache_dir=cache))
    files = cold.python_files_ok
    for name in ("ast", "cst", "tree_sitter", "bytecode", "symtable", "scip"):
        assert cold.extractors[name].cache_hits == 0
        assert warm.extractors[name].cache_hits == files
    cc, cw = _content(tmp_path / "cold"), _content(tmp_path / "warm")
    for name in TABLES:
        assert cc[name].equals(cw[name]), name


def test_a_changed_file_is_re_extracted(repo: Path, tmp_path: Path) -> None:
    work = tmp_path / "repo"
    shutil.copytree(repo, work, symlinks=True)
    cache = tmp_path / "cache"
    extract(
        work,
        tmp_path / "r1",
        ExtractOptions(workers=1, cache_dir=cache, extractors=("repo_scan", "ast", "scip")),
    )
    victim = sorted(work.rglob("*.py"))[0]
    victim.write_text(victim.read_text("utf-8") + "\ndef added_later():\n    return 1\n", "utf-8")
    again = extract(
        work,
        tmp_path / "r2",
        ExtractOptions(workers=1, cache_dir=cache, extractors=("repo_scan", "ast", "scip")),
    )
    assert again.extractors["ast"].cache_hits == again.python_files_ok - 1
    # scip is cached per file and keyed by the import closure: the victim and every file
    # that imports it, directly or not, are indexed again; the others are served.
    # service.py names the package (`import callgraph.mathops`, `from . import mathops`),
    # entry.py imports service.py.
    importers = {"callgraph/__init__.py", "callgraph/service.py", "callgraph/entry.py"}
    assert victim.relative_to(work).as_posix() == "callgraph/__init__.py"
    assert again.extractors["scip"].cache_hits == again.python_files_ok - len(importers)
    names = read_table(tmp_path / "r2" / "evidence" / "ast").column("name").to_pylist()
    assert "added_later" in names
