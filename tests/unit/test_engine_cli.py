"""``codeanatomy plan`` on both backends: identical tiers 1-2 for the workload spec, and a
cyclic spec is a coded engine error (exit 3) naming the cycle, from either backend."""

from __future__ import annotations

import json
from pathlib import Path

import msgspec
import pytest
from typer.testing import CliRunner

from backends.contract.schemas import EVIDENCE_TABLES
from backends.contract.spec import ViewSpec
from backends.contract.views import default_spec, evidence_bindings
from harness.cli import app
from harness.exit_codes import EXIT_ENGINE

runner = CliRunner()


def _plan(*args: str) -> dict[str, object]:
    result = runner.invoke(app, ["plan", *args, "--json"])
    assert result.exit_code == 0, result.output
    data: dict[str, object] = json.loads(result.stdout)
    return data


def test_both_backends_plan_the_workload_identically() -> None:
    legacy = _plan("--backend", "legacy", "--tier", "2")
    rust = _plan("--backend", "rust", "--tier", "2")
    for key in ("spec_hash", "outputs", "graph", "edges", "schedule"):
        assert legacy[key] == rust[key], key
    assert legacy["graph"] == {
        "inputs": 10,
        "views": 23,
        "edges": 94,
        "generations": 7,
        "pruned": 0,
    }


@pytest.mark.parametrize("backend", ["legacy", "rust"])
def test_a_cyclic_spec_is_a_coded_error_naming_the_cycle(tmp_path: Path, backend: str) -> None:
    spec = default_spec(evidence_bindings("evidence", dict.fromkeys(EVIDENCE_TABLES, 0)))
    views = [
        ViewSpec(name=v.name, kind=v.kind, inputs=(*v.inputs, "cpg_props"))
        if v.name == "syntax"
        else v
        for v in spec.views
    ]
    path = tmp_path / "spec.json"
    path.write_bytes(msgspec.json.encode(msgspec.structs.replace(spec, views=tuple(views))))
    result = runner.invoke(app, ["plan", "--backend", backend, "--spec", str(path), "--json"])
    assert result.exit_code == EXIT_ENGINE, result.output
    error = json.loads(result.stdout)["error"]
    assert (error["code"], error["stage"]) == ("VIEW_CYCLE", "compile")
    assert "syntax" in json.dumps(error["context"])


def test_plan_parity_check_passes_for_the_workload() -> None:
    from harness.gates.gates import plan_parity

    check = plan_parity()
    assert check.passed, check.detail
