"""An evidence table that cannot be written is a coded engine failure on both sides, never an
internal error with a traceback (the Delta writer's ``DeltaWriteError``, CONTRACT §15)."""

from __future__ import annotations

from pathlib import Path

import pytest

from backends.extract.runner import ExtractOptions
from harness.adapters import adapter
from harness.errors import EngineFailure


def _repo(root: Path) -> Path:
    root.mkdir()
    (root / "mod.py").write_text("def f():\n    return 1\n", encoding="utf-8")
    return root


def _options() -> ExtractOptions:
    return ExtractOptions(workers=1, cache_dir=None, extractors=("repo_scan", "ast"))


@pytest.mark.parametrize("backend", ["rust", "legacy"])
def test_an_unwritable_evidence_table_is_a_coded_failure(tmp_path: Path, backend: str) -> None:
    repo = _repo(tmp_path / "repo")
    out = tmp_path / "run"
    (out / "evidence").mkdir(parents=True)
    (out / "evidence" / "ast").write_text("not a table", encoding="utf-8")
    with pytest.raises(EngineFailure) as raised:
        adapter(backend).extract(repo, out, _options())
    assert raised.value.code in {"COMMIT_FAILED", "EXTRACTION_FAILED"}
    assert raised.value.code != "INTERNAL_ERROR"
    assert "evidence/ast" in str(raised.value)


@pytest.mark.parametrize("backend", ["rust", "legacy"])
def test_a_writable_folder_extracts(tmp_path: Path, backend: str) -> None:
    repo = _repo(tmp_path / "repo")
    summary = adapter(backend).extract(repo, tmp_path / "run", _options())
    assert summary.tables["ast"] > 0
