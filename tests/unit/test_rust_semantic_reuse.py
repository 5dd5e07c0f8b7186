"""The Rust adapter's semantic stage is not run again when its outputs already hold its result
(same engine, same spec, same evidence commits), on real evidence and the real engine."""

from __future__ import annotations

import shutil
from pathlib import Path

import msgspec
import pytest

from backends.contract.spec import SemanticExecutionSpec, SpecPolicy
from backends.extract.runner import ExtractOptions, extract
from harness.adapters import rust as rust_adapter
from harness.adapters.common import workload_spec
from harness.adapters.rust import RustAdapter

engine = pytest.importorskip("backends.rust", reason="the Rust extension is not built")

ADAPTER = RustAdapter()


def _repo(root: Path, body: str) -> Path:
    repo = root / "repo"
    (repo / "pkg").mkdir(parents=True, exist_ok=True)
    (repo / "pkg" / "__init__.py").write_text("from .mod import f\n")
    (repo / "pkg" / "mod.py").write_text(body)
    return repo


def _evidence(tmp_path: Path, body: str = "import os\n\ndef f():\n    return os.sep\n") -> Path:
    repo = _repo(tmp_path, body)
    out = tmp_path / "run"
    extract(repo, out, ExtractOptions(workers=1, cache_dir=None, extractors=_NO_SCIP))
    return out


_NO_SCIP = tuple(e for e in ExtractOptions().extractors if e != "scip")


def _spec(run: Path) -> SemanticExecutionSpec:
    return workload_spec(run / "evidence", SpecPolicy(use_scip=False))


def _engine_calls(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls: list[int] = []
    real = engine.run

    def counted(*args: object, **kwargs: object) -> object:
        calls.append(1)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(engine, "run", counted)
    return calls


def _comparable(result: object) -> object:
    return {k: v for k, v in msgspec.to_builtins(result).items() if k != "timings"}


def test_the_same_spec_again_returns_the_result_without_running_the_engine(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run = _evidence(tmp_path)
    first = ADAPTER.run_semantics(_spec(run), run / "outputs")
    calls = _engine_calls(monkeypatch)
    again = ADAPTER.run_semantics(_spec(run), run / "outputs")
    assert calls == []
    assert _comparable(again) == _comparable(first)
    assert set(again.timings) == {"reused_s"}


def test_changed_evidence_runs_the_engine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The vacuous case: a new evidence version is a new spec.
    run = _evidence(tmp_path)
    ADAPTER.run_semantics(_spec(run), run / "outputs")
    _evidence(tmp_path, "import json\n\ndef f():\n    return json.dumps(1)\n")
    calls = _engine_calls(monkeypatch)
    ADAPTER.run_semantics(_spec(run), run / "outputs")
    assert calls == [1]


def test_evidence_rebuilt_in_place_runs_the_engine(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Same paths, same versions (0), another commit: the key differs.
    run = _evidence(tmp_path)
    ADAPTER.run_semantics(_spec(run), run / "outputs")
    shutil.rmtree(run / "evidence")
    _evidence(tmp_path, "import json\n\ndef f():\n    return json.dumps(1)\n")
    spec = _spec(run)
    assert {b.delta_version for b in spec.inputs} == {0}
    calls = _engine_calls(monkeypatch)
    ADAPTER.run_semantics(spec, run / "outputs")
    assert calls == [1]


def test_an_output_committed_by_another_writer_runs_the_engine(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from backends.extract.delta import read_table, write_table

    run = _evidence(tmp_path)
    ADAPTER.run_semantics(_spec(run), run / "outputs")
    nodes = run / "outputs" / "cpg_nodes"
    write_table(nodes, read_table(nodes).slice(0, 1))  # a new version the run did not leave
    calls = _engine_calls(monkeypatch)
    result = ADAPTER.run_semantics(_spec(run), run / "outputs")
    assert calls == [1]
    assert read_table(nodes).num_rows == next(
        o.rows for o in result.outputs if o.table == "cpg_nodes"
    )


def test_a_run_with_views_runs_the_engine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    run = _evidence(tmp_path)
    ADAPTER.run_semantics(_spec(run), run / "outputs")
    calls = _engine_calls(monkeypatch)
    ADAPTER.run_semantics(_spec(run), run / "outputs", run / "views")
    assert calls == [1]


def test_another_engine_version_runs_the_engine(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run = _evidence(tmp_path)
    ADAPTER.run_semantics(_spec(run), run / "outputs")
    monkeypatch.setattr(engine, "engine_version", lambda: "codeanatomy_engine 9.9.9")
    calls = _engine_calls(monkeypatch)
    ADAPTER.run_semantics(_spec(run), run / "outputs")
    assert calls == [1]


def test_the_key_is_none_for_an_object_store_input(tmp_path: Path) -> None:
    run = _evidence(tmp_path)
    spec = _spec(run)
    moved = msgspec.structs.replace(
        spec,
        inputs=tuple(msgspec.structs.replace(b, uri=f"s3://b/{b.name}") for b in spec.inputs),
    )
    assert rust_adapter._run_key(spec, "e") is not None
    assert rust_adapter._run_key(moved, "e") is None


def test_a_rebuilt_engine_with_the_same_version_runs_the_engine(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run = _evidence(tmp_path)
    ADAPTER.run_semantics(_spec(run), run / "outputs")
    before = rust_adapter._engine_identity()
    monkeypatch.setattr(rust_adapter, "_engine_identity", lambda: before + "-rebuilt")
    calls = _engine_calls(monkeypatch)
    ADAPTER.run_semantics(_spec(run), run / "outputs")
    assert calls == [1]
