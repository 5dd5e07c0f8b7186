"""The incremental gate without builds: the scripted edit sequence on small repositories made
in the test, its vacuous cases (no Python file, no edit that applies: never a pass), and the
step comparison on real Delta tables (a planted difference fails, naming table and keys).
The whole gate with real builds is in ``tests/e2e/test_gate_incremental.py``."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
from deltalake import write_deltalake
from typer.testing import CliRunner

from backends.contract.schemas import CPG_EDGES, EVIDENCE_SUMMARY, SCIP
from harness.cli import app
from harness.compare.runs import compare_runs
from harness.errors import EngineFailure
from harness.exit_codes import EXIT_USAGE
from harness.gates.incremental import (
    EDIT_KINDS,
    INCREMENTAL_POLICY,
    MARK,
    Edit,
    Skipped,
    StepRecord,
    TableDifference,
    apply_change,
    change_for,
    checks_for,
    compare_step,
    plan_edits,
    read_repo,
    run_incremental,
    run_repo,
    scip_cache_exception,
)

REPO = {
    "pkg/__init__.py": '"""A package."""\n',
    "pkg/core.py": "def compute(x, y=1):\n    return x + y\n\n\ndef other():\n    return 2\n",
    "pkg/api.py": "from pkg.core import compute\n\n\ndef run():\n    return compute(1)\n",
    "pkg/util.py": "def helper():\n    return 3\n",
    "pkg/service.py": "from pkg import util\n\n\ndef serve():\n    return util.helper()\n",
    "pkg/cli.py": "from pkg.api import run\n\nrun()\n",
    "tools/script.py": "import os\n\nCWD = os.getcwd()\n",
}


def _write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def _tree(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): p.read_text(encoding="utf-8")
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_importers_come_from_the_text(tmp_path: Path) -> None:
    repo = read_repo(_write(tmp_path / "r", REPO))
    assert repo.importers["pkg/core.py"] == ("pkg/api.py",)
    assert repo.importers["pkg/util.py"] == ("pkg/service.py",)  # `from pkg import util`
    assert repo.importers["pkg/cli.py"] == ()
    assert "pkg/api.py" in repo.importers["pkg/__init__.py"]


def test_the_edit_sequence_is_planned_from_the_repository(tmp_path: Path) -> None:
    root = _write(tmp_path / "r", REPO)
    plan = plan_edits(root)
    assert [p.kind for p in plan] == list(EDIT_KINDS)
    assert all(isinstance(p, Edit) for p in plan)
    add, change, rename, delete, resolution = plan
    assert isinstance(resolution, Edit)
    assert (resolution.target, resolution.other, resolution.name) == (
        "pkg/core.py",
        "pkg/api.py",
        "compute",
    )
    assert isinstance(rename, Edit) and (rename.target, rename.other) == (
        "pkg/cli.py",
        "pkg/cli_renamed.py",
    )
    assert isinstance(delete, Edit) and delete.target == "pkg/util.py"  # one a file imports
    assert isinstance(add, Edit) and (add.other, add.name) == ("pkg/api.py", "run")
    assert isinstance(change, Edit) and change.target not in {"pkg/cli.py", "pkg/util.py"}
    # Deterministic: the same repository gives the same plan.
    assert plan_edits(root) == plan


def test_applying_the_sequence_edits_only_the_copy_as_planned(tmp_path: Path) -> None:
    root = _write(tmp_path / "r", REPO)
    for planned in plan_edits(root):
        assert isinstance(planned, Edit)
        change = change_for(planned, root)
        assert not isinstance(change, Skipped), change
        apply_change(root, change)
    after = _tree(root)
    added = after[f"{MARK}_added.py"]
    assert "from pkg.api import run" in added and "return run()" in added
    assert "pkg/cli.py" not in after and after["pkg/cli_renamed.py"] == REPO["pkg/cli.py"]
    assert "pkg/util.py" not in after
    assert f"def compute{MARK}(x, y=1):" in after["pkg/core.py"]
    # B's text is unchanged: only its resolution through the import changed.
    assert after["pkg/api.py"] == REPO["pkg/api.py"]
    changed = [
        rel for rel, text in after.items() if f"return {MARK}_helper()" in text and rel in REPO
    ]
    assert len(changed) == 1
    for text in after.values():
        compile(text, "<edited>", "exec")  # every edited file still parses (never run)


def test_a_required_argument_gets_a_placeholder(tmp_path: Path) -> None:
    files = {"a.py": "def f(x, *, k):\n    return x\n", "b.py": "from a import f\n"}
    root = _write(tmp_path / "r", files)
    add = plan_edits(root)[0]
    assert isinstance(add, Edit) and add.kind == "add_module"
    change = change_for(add, root)
    assert not isinstance(change, Skipped)
    assert "return f(None, k=None)" in change.write[f"{MARK}_added.py"]


def test_a_re_exported_name_gets_its_own_definition(tmp_path: Path) -> None:
    files = {
        "a.py": "from b import g\n",
        "b.py": "def g():\n    return 1\n",
        "c.py": "from a import g\n",
    }
    root = _write(tmp_path / "r", files)
    resolution = plan_edits(root)[-1]
    # c imports g from a, which only re-exports it; a's own import of g from b is a rename.
    assert isinstance(resolution, Edit)
    assert (resolution.target, resolution.other) == ("b.py", "a.py")
    root2 = _write(
        tmp_path / "r2",
        {"a.py": "import os\nfrom os import sep\n", "c.py": files["c.py"].replace("g", "sep")},
    )
    resolution = plan_edits(root2)[-1]
    assert isinstance(resolution, Edit) and resolution.target == "a.py"
    change = change_for(resolution, root2)
    assert not isinstance(change, Skipped)
    assert change.write["a.py"].endswith("def sep(*args, **kwargs):\n    return None\n")


def test_edits_that_cannot_apply_are_skipped_with_their_reason(tmp_path: Path) -> None:
    # One module, no import between files, nothing to call: only change/rename/delete apply.
    root = _write(tmp_path / "r", {"a.py": "X = 1\n"})
    plan = {p.kind: p for p in plan_edits(root)}
    assert isinstance(plan["import_resolution"], Skipped)
    assert "from A import f" in plan["import_resolution"].reason
    assert isinstance(plan["add_module"], Skipped)
    assert isinstance(plan["rename_leaf"], Edit)
    # The renamed leaf is kept clear of the deletion: nothing is left to delete.
    assert isinstance(plan["delete_file"], Skipped)


def test_a_repository_without_python_is_not_evaluated(tmp_path: Path) -> None:
    root = _write(tmp_path / "r", {"README.md": "# no code\n", "data.txt": "1\n"})
    plan = plan_edits(root)
    assert all(isinstance(p, Skipped) for p in plan)
    assert {p.reason for p in plan if isinstance(p, Skipped)} == {
        "the repository has no Python file"
    }
    built: list[Path] = []

    def build(repo: Path, out: Path, cached: bool) -> None:
        built.append(out)

    verdict = run_incremental([root], tmp_path / "work", lambda cache: build, "rust")
    assert not verdict.passed
    assert not built  # nothing to compare: no build at all
    evaluated = next(c for c in verdict.checks if c.name == "r/evaluated")
    assert not evaluated.passed and "not evaluated" in evaluated.detail
    assert "no Python file" in evaluated.detail
    # The user's repository is untouched; the steps are recorded as evidence.
    assert _tree(root) == {"README.md": "# no code\n", "data.txt": "1\n"}
    steps = json.loads(Path(verdict.evidence["r"]).read_text())
    assert [s["status"] for s in steps] == ["skipped"] * len(EDIT_KINDS)


def test_zero_edits_applied_is_not_a_pass(tmp_path: Path) -> None:
    root = _write(tmp_path / "r", {"broken.py": "def (:\n"})
    plan = plan_edits(root)
    assert all(isinstance(p, Skipped) for p in plan)
    checks = checks_for(
        "r",
        [StepRecord(step="1-x", kind="x", description="", status="skipped", detail="why")],
    )
    assert checks[0].passed and "skipped (not evaluated)" in checks[0].detail
    assert not checks[-1].passed and "not evaluated" in checks[-1].detail


def test_no_repository_is_not_a_pass(tmp_path: Path) -> None:
    verdict = run_incremental([], tmp_path / "work", lambda cache: lambda *a: None, "rust")
    assert not verdict.passed


def test_a_failed_state_zero_build_fails_the_repository(tmp_path: Path) -> None:
    root = _write(tmp_path / "r", REPO)

    def build(repo: Path, out: Path, cached: bool) -> None:
        raise EngineFailure("rust", "INTERNAL_ERROR", "extract", "planted failure")

    records = run_repo(root, tmp_path / "work", build)
    assert [r.status for r in records] == ["error"]
    checks = checks_for("r", records)
    assert not any(c.passed for c in checks)
    assert "planted failure" in checks[0].detail
    assert _tree(root) == REPO  # the edits went to the copy only


def _edges(n: int = 20) -> pa.Table:
    return pa.Table.from_pylist(
        [
            {
                "edge_id": f"e{i:03d}",
                "kind": "CALLS",
                "src_id": f"s{i}",
                "dst_id": f"d{i}",
                "evidence_source": "lexical",
                "confidence": 1.0,
                "path": f"p{i % 3}.py",
                "bstart": i,
                "bend": i + 1,
            }
            for i in range(n)
        ],
        schema=CPG_EDGES,
    )


def _run(root: Path, edges: pa.Table) -> Path:
    write_deltalake(str(root / "outputs" / "cpg_edges"), edges, mode="overwrite")
    return root


def _table_differences(differences: list[TableDifference]) -> list[TableDifference]:
    return [d for d in differences if d.code == "TABLE_DIFFERS"]


def test_equal_tables_show_no_table_difference(tmp_path: Path) -> None:
    fresh, inc = _run(tmp_path / "fresh", _edges()), _run(tmp_path / "inc", _edges())
    _, compared, differences, exception = compare_step(inc, fresh, "r:1-x")
    assert exception is None
    assert compared["outputs"] == 1
    assert not _table_differences(differences)


def test_a_planted_stale_row_fails_naming_table_and_key(tmp_path: Path) -> None:
    fresh = _run(tmp_path / "fresh", _edges())
    stale = pa.concat_tables([_edges(), _edges(30).slice(25, 1)])  # a row left behind
    inc = _run(tmp_path / "inc", stale)
    result, _, differences, exception = compare_step(inc, fresh, "r:4-delete_file")
    assert exception is None  # no contract exception covers a stale CPG edge
    assert result.blocks
    found = _table_differences(differences)
    assert [(d.stage, d.table) for d in found] == [("outputs", "cpg_edges")]
    assert found[0].keys and found[0].keys[0]["edge_id"] == "e025"
    record = StepRecord(
        step="4-delete_file",
        kind="delete_file",
        description="d.py deleted",
        status="fail",
        detail="differs",
        differences=tuple(found),
    )
    check = checks_for("r", [record])[0]
    assert not check.passed


def test_a_comparison_over_nothing_is_a_difference(tmp_path: Path) -> None:
    (tmp_path / "fresh").mkdir()
    (tmp_path / "inc").mkdir()
    _, compared, differences, exception = compare_step(
        tmp_path / "inc", tmp_path / "fresh", "r:1-x"
    )
    assert exception is None
    assert sum(compared.values()) == 0
    assert "COVERAGE_NOTHING_COMPARED" in {d.code for d in differences}


def test_the_cli_refuses_an_unknown_backend(tmp_path: Path) -> None:
    root = _write(tmp_path / "r", REPO)
    runner = CliRunner()
    for args, code in (
        (["gate", "incremental", str(root), "--backend", "cobol"], "UNKNOWN_BACKEND"),
        (["gate", "perf", str(root), "--backend", "rust"], "OPTION_NOT_APPLICABLE"),
    ):
        result = runner.invoke(app, [*args, "--out", str(tmp_path / "out"), "--json"])
        assert result.exit_code == EXIT_USAGE, result.output
        assert json.loads(result.stdout)["error"]["code"] == code


def _summary(version: int, rows: int = 10) -> pa.Table:
    return pa.Table.from_pylist(
        [
            {
                "source": source,
                "files": 2,
                "rows": rows,
                "files_with_warnings": 0,
                "warnings": 0,
                "delta_version": version,
            }
            for source in ("ast", "cst")
        ],
        schema=EVIDENCE_SUMMARY,
    )


def test_only_the_input_version_of_the_summary_may_differ(tmp_path: Path) -> None:
    def run(name: str, table: pa.Table) -> Path:
        write_deltalake(str(tmp_path / name / "outputs" / "evidence_summary"), table)
        return tmp_path / name

    fresh = run("fresh", _summary(0))
    # An incremental build reads a later version of each evidence table: not a difference.
    _, _, differences, _ = compare_step(run("inc", _summary(3)), fresh, "r:1-x")
    assert not _table_differences(differences)
    # Its counts are compared.
    _, _, differences, exception = compare_step(run("inc2", _summary(3, rows=11)), fresh, "r:1-x")
    assert exception is None
    assert [d.table for d in _table_differences(differences)] == ["evidence_summary"]


def _scip(extra: list[dict[str, object]]) -> pa.Table:
    rows: list[dict[str, object]] = [
        {"kind": "occurrence", "path": "a.py", "ordinal": i, "symbol": f"s{i}", "roles": 8}
        for i in range(5)
    ]
    external: list[dict[str, object]] = [
        {"kind": "symbol", "path": None, "symbol": "scip-python python builtins/len()."},
        *extra,
        {"kind": "symbol", "path": None, "symbol": "scip-python python builtins/str#"},
    ]
    rows += [{**r, "ordinal": i} for i, r in enumerate(external)]
    return pa.Table.from_pylist(rows, schema=SCIP)


def _scip_run(root: Path, extra: list[dict[str, object]]) -> Path:
    scip = _scip(extra)
    write_deltalake(str(root / "evidence" / "scip"), scip)
    summary = pa.Table.from_pylist(
        [
            {"source": s, "files": 1, "rows": n, "files_with_warnings": 0, "warnings": 0}
            for s, n in (("scip", scip.num_rows), ("ast", 7))
        ],
        schema=EVIDENCE_SUMMARY,
    )
    write_deltalake(str(root / "outputs" / "evidence_summary"), summary)
    return root


def _exception(inc: Path, fresh: Path) -> tuple[str | None, list[TableDifference]]:
    """The exception over the table differences alone (the runs here have no run.json, so
    the Result also reports their evidence sources missing)."""
    comparison = compare_runs(fresh, inc, INCREMENTAL_POLICY.rules())
    differences = [
        TableDifference(code="TABLE_DIFFERS", stage=v.stage, table=v.table, message="")
        for v in comparison.tables
        if v.severity != "ok"
    ]
    return scip_cache_exception(comparison, differences), differences


LOCAL: dict[str, object] = {
    "kind": "symbol",
    "path": None,
    "symbol": "local 17",
    "documentation": "def len()",
}


def test_an_external_local_scip_row_is_the_contracts_cache_exception(tmp_path: Path) -> None:
    fresh = _scip_run(tmp_path / "fresh", [LOCAL])
    inc = _scip_run(tmp_path / "inc", [])
    exception, differences = _exception(inc, fresh)
    assert {(d.stage, d.table) for d in differences} == {
        ("evidence", "scip"),
        ("outputs", "evidence_summary"),
    }
    assert exception is not None and "local N" in exception
    assert "1 in the fresh build only, 0 in the incremental one" in exception


def test_any_other_scip_difference_is_no_exception(tmp_path: Path) -> None:
    fresh = _scip_run(tmp_path / "fresh", [LOCAL])
    for name, extra in (
        ("global", [{**LOCAL, "symbol": "scip-python python builtins/len()."}]),
        ("in_a_file", [{**LOCAL, "path": "a.py"}]),
        ("occurrence", [{**LOCAL, "kind": "occurrence"}]),
    ):
        inc = _scip_run(tmp_path / name, [])
        other = _scip_run(tmp_path / f"fresh_{name}", extra)
        exception, differences = _exception(inc, other)
        assert differences and exception is None, name
    # Nothing differing is no exception either (the step is identical).
    exception, differences = _exception(fresh, fresh)
    assert not differences and exception is None
    # Nor is a table difference beside a coverage finding (no run.json here: sources missing).
    _, _, differences, exception = compare_step(inc, fresh, "r:x")
    assert "COVERAGE_SOURCE_FAILED" in {d.code for d in differences}
    assert exception is None
