"""``codeanatomy changes`` after real builds: a golden repository built into a run folder, edited,
built again into the same folder; ``changes`` then lists exactly the rows that differ between
the two versions of each output table (read directly from Delta, keyed by the contract's
primary key), and ``run.json`` records the versions each build started from."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from deltalake import DeltaTable
from typer.testing import CliRunner

from backends.contract.schemas import OUTPUT_TABLES
from backends.extract.runner import ExtractOptions
from harness.cli import app
from harness.exit_codes import EXIT_OK
from harness.run.build import run_build
from harness.run.changes import CHANGE_TABLES
from harness.run.request import BuildRequest

pytestmark = pytest.mark.slow

GOLDEN = Path(__file__).parents[2] / "golden_repos"
EDIT = "\n\ndef square(n: int) -> int:\n    return mul(n, n)\n"


def _rows(uri: Path, version: int | None, key: tuple[str, ...]) -> dict[tuple[Any, ...], Any]:
    if version is None:
        return {}
    rows = DeltaTable(str(uri), version=version).to_pyarrow_table().to_pylist()
    return {tuple(r[k] for k in key): r for r in rows}


def _oracle(run: Path, table: str, before: int | None, after: int) -> dict[str, int]:
    """Added, removed and changed keys between two versions, read directly."""
    key = OUTPUT_TABLES[table].primary_key
    old = _rows(run / "outputs" / table, before, key)
    new = _rows(run / "outputs" / table, after, key)
    return {
        "added": len(new.keys() - old.keys()),
        "removed": len(old.keys() - new.keys()),
        "changed": sum(old[k] != new[k] for k in old.keys() & new.keys()),
    }


@pytest.mark.parametrize("backend", ["legacy", "rust"])
def test_changes_after_an_edit_are_the_rows_that_differ(tmp_path: Path, backend: str) -> None:
    repo = tmp_path / "repo"
    shutil.copytree(GOLDEN / "callgraph", repo, symlinks=True)
    run = tmp_path / "run"
    options = ExtractOptions(workers=1, cache_dir=tmp_path / "cache")
    first = run_build(backend, BuildRequest(repo=repo, out=run, extract=options)).manifest
    assert {e.version_before for e in (*first.inputs, *first.outputs)} == {None}
    runner = CliRunner()
    assert runner.invoke(app, ["changes", str(run), "--json"]).exit_code == EXIT_OK

    with (repo / "callgraph" / "mathops.py").open("a") as source:
        source.write(EDIT)
    second = run_build(backend, BuildRequest(repo=repo, out=run, extract=options)).manifest
    after = {e.table: e for e in second.outputs}
    for entry in first.outputs:
        assert after[entry.table].version_before == entry.delta_version

    result = runner.invoke(app, ["changes", str(run), "--json"])
    assert result.exit_code == EXIT_OK, result.output
    listed = {w["table"]: w for w in json.loads(result.stdout)["tables"]}
    for table in CHANGE_TABLES:
        entry = after[table]
        assert isinstance(entry.version_before, int)
        expected = _oracle(run, table, entry.version_before, entry.delta_version)
        window = listed[table]
        assert (window["since"], window["latest"]) == (entry.version_before, entry.delta_version)
        got = {k: window[k] for k in ("added", "removed", "changed")}
        assert got == expected, table
    assert sum(listed["cpg_nodes"][k] for k in ("added", "removed", "changed")) > 0
