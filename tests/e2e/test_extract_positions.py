"""On lines with emoji, CJK and accented text, every extractor's spans point at the same bytes."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from backends.extract.delta import read_table
from backends.extract.runner import ExtractOptions, extract
from backends.extract.source import decode_source

ROOT = Path(__file__).parents[2]
pytestmark = pytest.mark.slow
SHARED_KINDS = ("class", "function", "parameter", "call", "import")
NAME_LOADS = ("LOAD_NAME", "LOAD_GLOBAL", "LOAD_FAST", "LOAD_DEREF")


@pytest.fixture(scope="module")
def evidence(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    base = tmp_path_factory.mktemp("positions")
    repo = base / "unicode_layout"
    shutil.copytree(ROOT / "golden_repos" / "unicode_layout", repo, symlinks=True)
    extract(repo, base / "run", ExtractOptions(workers=2, cache_dir=None))
    tables = {
        name: read_table(base / "run" / "evidence" / name).to_pylist()
        for name in ("repo_scan", "ast", "cst", "tree_sitter", "bytecode", "scip")
    }
    data = {
        r["path"]: decode_source((repo / r["path"]).read_bytes()).text.encode("utf-8")
        for r in tables["repo_scan"]
        if r["status"] == "ok"
    }
    return {"tables": tables, "data": data}


def _non_ascii(data: dict[str, bytes], path: str, line: int | None) -> bool:
    if not line:
        return False
    return any(b > 127 for b in data[path].splitlines()[line - 1])


def _rows(evidence: dict[str, Any], table: str) -> list[dict[str, Any]]:
    data = evidence["data"]
    return [
        r
        for r in evidence["tables"][table]
        if r["bstart"] is not None and _non_ascii(data, r["path"], r["line"])
    ]


def test_fixture_has_non_ascii_definitions_and_calls(evidence: dict[str, Any]) -> None:
    kinds = {r["kind"] for r in _rows(evidence, "ast")}
    assert {"function", "class", "call", "parameter"} <= kinds


@pytest.mark.parametrize("other", ["cst", "tree_sitter"])
def test_parsers_share_every_span_of_the_shared_kinds(evidence: dict[str, Any], other: str) -> None:
    ast_spans = {
        (r["path"], r["kind"], r["bstart"], r["bend"])
        for r in _rows(evidence, "ast")
        if r["kind"] in SHARED_KINDS
    }
    other_spans = {
        (r["path"], r["kind"], r["bstart"], r["bend"])
        for r in _rows(evidence, other)
        if r["kind"] in SHARED_KINDS
    }
    assert ast_spans == other_spans


def test_bytecode_name_loads_point_at_the_name(evidence: dict[str, Any]) -> None:
    data = evidence["data"]
    loads = [
        r
        for r in _rows(evidence, "bytecode")
        if r["opname"] in NAME_LOADS and not r["name"].startswith("__")
    ]
    assert len(loads) >= 10
    ast_names = {(r["path"], r["bstart"], r["bend"]) for r in _rows(evidence, "ast")}
    for r in loads:
        assert data[r["path"]][r["bstart"] : r["bend"]].decode() == r["name"]
        assert (r["path"], r["bstart"], r["bend"]) in ast_names


def test_scip_occurrences_point_at_identifiers_ast_also_saw(evidence: dict[str, Any]) -> None:
    data = evidence["data"]
    occurrences = [
        r for r in _rows(evidence, "scip") if r["kind"] == "occurrence" and r["bend"] > r["bstart"]
    ]
    assert len(occurrences) >= 20
    ast_starts = {(r["path"], r["bstart"]) for r in evidence["tables"]["ast"]}
    ast_names = {(r["path"], r["bstart"], r["bend"]) for r in _rows(evidence, "ast")}
    for r in occurrences:
        text = data[r["path"]][r["bstart"] : r["bend"]].decode()
        assert text.isidentifier(), (r["path"], text)
    shared = [r for r in occurrences if (r["path"], r["bstart"], r["bend"]) in ast_names]
    assert len(shared) >= len(occurrences) // 2
    assert any((r["path"], r["bstart"]) in ast_starts for r in occurrences)
