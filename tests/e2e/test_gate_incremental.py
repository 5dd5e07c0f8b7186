"""``codeanatomy gate incremental`` end to end (rust backend, small repositories): the whole
scripted edit sequence on a golden repo and on a small generated repo, every step's
incremental build identical to a fresh one; and a planted bug in the incremental path (the
evidence writer keeps a removed file's rows) fails the gate, naming the table."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from backends.extract import runner as extract_runner
from backends.extract.delta import read_table
from backends.extract.scip.install import find_binary
from harness.config.load import load_config
from harness.gates.gates import GateContext, gate_incremental
from harness.golden.synthetic import generate

ROOT = Path(__file__).parents[2]
CLI = Path(sys.executable).parent / "codeanatomy"
GOLDEN = ROOT / "golden_repos" / "callgraph"
BACKEND = "rust"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        find_binary() is None or shutil.which("node") is None,
        reason="scip-python not installed (needs node on PATH): without scip every step fails",
    ),
]


def _small_repo(dest: Path) -> Path:
    generate(dest, files=12, seed=3)
    return dest


def test_the_whole_edit_sequence_passes_with_the_real_cli(tmp_path: Path) -> None:
    repo = _small_repo(tmp_path / "synthetic")
    out = tmp_path / "gates"
    before = {p: p.read_bytes() for p in sorted(GOLDEN.rglob("*")) if p.is_file()}
    argv = ["gate", "incremental", str(GOLDEN), str(repo), "--backend", BACKEND]
    done = subprocess.run(
        [str(CLI), *argv, "--out", str(out), "--json"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=600,
        check=False,
    )
    verdict = json.loads(done.stdout)
    failed = [c for c in verdict["checks"] if not c["passed"]]
    assert done.returncode == 0, failed or done.stderr
    assert verdict["gate"] == "incremental" and verdict["passed"]
    for name in ("callgraph", "synthetic"):
        steps = json.loads((out / verdict["evidence"][name]).read_text())
        applied = [s for s in steps if s["status"] != "skipped"]
        # Every kind of edit applies to these repositories, and each step compared every stage.
        assert len(applied) == 5, steps
        for step in applied:
            assert step["status"] == "pass", step
            assert all(step["compared"][stage] > 0 for stage in ("evidence", "views", "outputs"))
    # The golden repository itself was never edited.
    assert {p: p.read_bytes() for p in sorted(GOLDEN.rglob("*")) if p.is_file()} == before


def _leaky(write: Callable[..., Any]) -> Callable[..., Any]:
    """The evidence writer with a planted bug: rows of files the new table no longer has
    are kept (a deleted or renamed file's rows left behind)."""

    def leaky(uri: Path, table: pa.Table, *args: Any, **kwargs: Any) -> Any:
        if (uri / "_delta_log").is_dir() and "path" in table.column_names:
            old = read_table(uri)
            if set(old.column_names) == set(table.column_names):
                kept = pc.is_in(old["path"], value_set=table["path"].combine_chunks())
                stale = old.filter(pc.and_(pc.invert(kept), pc.is_valid(old["path"])))
                stale = stale.select(table.column_names).cast(table.schema)
                table = pa.concat_tables([table, stale])
        return write(uri, table, *args, **kwargs)

    return leaky


def test_a_deleted_files_rows_left_behind_fail_the_gate(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = _small_repo(tmp_path / "synthetic")
    # Whichever writer the extraction runner calls (write_table, or its MERGE successor).
    name = next(n for n in ("merge_table", "write_table") if hasattr(extract_runner, n))
    monkeypatch.setattr(extract_runner, name, _leaky(getattr(extract_runner, name)))
    ctx = GateContext(
        config=load_config(),
        repos=(repo,),
        work=tmp_path / "work",
        project=ROOT,
        backend=BACKEND,
    )
    verdict = gate_incremental(ctx)
    assert not verdict.passed
    failed = [c for c in verdict.checks if not c.passed and c.name != "synthetic/evaluated"]
    assert failed, verdict.checks
    first = failed[0]
    # The first step that removes a file fails, on the evidence table that kept its rows.
    assert first.name.endswith(("rename_leaf", "delete_file")), first
    assert "evidence/repo_scan" in first.detail, first.detail
    assert "first keys: added path=" in first.detail, first.detail
