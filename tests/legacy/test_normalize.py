"""Node, diagnostic and output views of the legacy backend (CONTRACT §7, §12, §13)."""

from __future__ import annotations

import json

import pyarrow as pa

from backends.contract.ids import stable_id
from backends.contract.schemas import BYTECODE, CPG_EDGES, CST, SYMTABLE
from backends.contract.spec import SpecPolicy
from backends.legacy.cpg import cpg_edges, cpg_props
from backends.legacy.diagnose import diagnostics, span_conflicts
from backends.legacy.frames import EdgeRows
from backends.legacy.normalize import definition_nodes, parameter_nodes
from backends.legacy.normalize import syntax as syntax_view
from tests.legacy.builders import (
    ast_table,
    external,
    imports,
    make,
    node,
    row,
    scan,
    scip,
    syntax,
    ts_table,
)
from tests.legacy.builders import (
    diagnostics as extract_diags,
)

P = "pkg/mod.py"
ROWS = [
    row(P, 0, "module", 0, 300),
    row(
        P,
        1,
        "function",
        10,
        100,
        name="f",
        qualname="f",
        detail={"is_async": True, "decorators": ["d"], "docstring": False},
    ),
    row(
        P,
        2,
        "parameter",
        16,
        17,
        name="x",
        scope="f",
        parent=1,
        detail={"kind": "positional", "index": 0, "has_default": True},
    ),
    row(
        P,
        3,
        "class",
        120,
        200,
        name="K",
        qualname="K",
        detail={"bases": ["object"], "decorators": [], "docstring": True},
    ),
]
ERR_TS = extract_diags(
    [
        {
            "path": P,
            "extractor": "tree_sitter",
            "code": "EXTRACT_PARSE_ERROR",
            "severity": "error",
            "message": "x",
        }
    ]
)


def test_winner_is_the_first_clean_source() -> None:
    diags = extract_diags(
        [
            {
                "path": P,
                "extractor": "ast",
                "code": "EXTRACT_PARSE_ERROR",
                "severity": "error",
                "message": "bad",
            }
        ]
    )
    cst = make(CST, ROWS)
    out = syntax_view(scan(P), ast_table(ROWS[:1]), cst, ts_table([]), diags)
    assert set(out["source"].to_pylist()) == {"cst"} and out.num_rows == len(ROWS)


def test_syntax_drops_rows_without_a_span() -> None:
    rows = [*ROWS, {**row(P, 4, "call", 0, 0, name="g", expr="g"), "bstart": None, "bend": None}]
    out = syntax_view(scan(P), ast_table(rows), make(CST, []), ts_table([]), extract_diags([]))
    assert out.num_rows == len(ROWS)


def test_definition_and_parameter_qualnames_are_full() -> None:
    syn = syntax(ROWS)
    assert sorted(definition_nodes(syn, scan(P))["qualname"].to_pylist()) == [
        "pkg.mod.K",
        "pkg.mod.f",
    ]
    assert parameter_nodes(syn, scan(P))["qualname"].to_pylist() == ["pkg.mod.f.x"]


def test_span_conflict_names_both_spans() -> None:
    cst_rows = [row(P, 0, "module", 0, 300), row(P, 1, "function", 10, 99, name="f", qualname="f")]
    out = span_conflicts(syntax(ROWS), ast_table(ROWS), make(CST, cst_rows), ts_table([]), ERR_TS)
    assert out.num_rows == 1
    r = out.to_pylist()[0]
    assert r["message"] == "function f spans ast [10,100) but cst [10,99)"
    assert json.loads(r["context"]) == {
        "kind": "function",
        "other": "cst",
        "other_bend": 99,
        "other_bstart": 10,
        "qualname": "f",
        "winner": "ast",
    }
    assert r["diagnostic_id"] == stable_id(
        "DIAGNOSTIC", ["SEM_SPAN_CONFLICT", P, 10, 100, "semantic", 0]
    )


def test_span_conflict_ignores_sources_with_error_warnings() -> None:
    ts_rows = [{**row(P, 1, "function", 10, 99, name="f", qualname="f"), "is_error": False}]
    out = span_conflicts(syntax(ROWS), ast_table(ROWS), make(CST, ROWS), ts_table(ts_rows), ERR_TS)
    assert out.num_rows == 0


def test_missing_evidence_is_reported_per_empty_table() -> None:
    conflicts = span_conflicts(syntax(ROWS), ast_table(ROWS), make(CST, []), ts_table([]), ERR_TS)
    out = diagnostics(
        ERR_TS,
        conflicts,
        scan(P),
        ast_table(ROWS),
        make(CST, []),
        ts_table([]),
        BYTECODE.empty_table(),
        SYMTABLE.empty_table(),
        scip([]),
    )
    missing = [r for r in out.to_pylist() if r["code"] == "SEM_MISSING_EVIDENCE"]
    assert [json.loads(r["context"])["table"] for r in missing] == [
        "cst",
        "tree_sitter",
        "bytecode",
        "symtable",
        "scip",
    ]
    assert missing[0]["diagnostic_id"] == stable_id(
        "DIAGNOSTIC", ["SEM_MISSING_EVIDENCE", "", None, None, "semantic", 1]
    )
    stage0 = [r for r in out.to_pylist() if r["source"] == "tree_sitter"]
    assert stage0[0]["severity"] == "error" and stage0[0]["stage"] == "extract"


def test_min_confidence_bp_drops_weaker_edges() -> None:
    rows = EdgeRows()
    for i, conf in enumerate((0.7, 0.8, 0.9, 1.0)):
        rows.add("CALLS", f"s{i}", "d", "lexical", conf, None, None, None)
    empty = CPG_EDGES.empty_table()
    out = cpg_edges(
        rows.table(), empty, empty, empty, empty, empty, SpecPolicy(min_confidence_bp=8000)
    )
    assert sorted(out["confidence"].to_pylist()) == [0.8, 0.9, 1.0]


def test_duplicate_edges_keep_the_highest_confidence_then_source_order() -> None:
    rows = EdgeRows()
    rows.add("CALLS", "s", "d", "lexical", 0.8, None, None, None)
    rows.add("CALLS", "s", "d", "scip", 0.8, None, None, None)
    rows.add("CALLS", "s", "e", "lexical", 0.7, None, None, None)
    rows.add("CALLS", "s", "e", "lexical", 0.8, None, None, None)
    out = {(r["dst_id"], r["evidence_source"], r["confidence"]) for r in rows.table().to_pylist()}
    assert out == {("d", "scip", 0.8), ("e", "lexical", 0.8)}


def test_props_are_typed_and_skip_nulls() -> None:
    syn = syntax(ROWS)
    fn, param, cls = (
        node("FUNCTION", P, 10, 100),
        node("PARAMETER", P, 16, 17),
        node("CLASS", P, 120, 200),
    )
    file_ = stable_id("FILE", [P])
    nodes = pa.table({"node_id": [fn, param, cls, file_]})
    code = make(
        BYTECODE,
        [
            {
                "path": P,
                "ordinal": 0,
                "kind": "code",
                "code_qualname": "f",
                "detail": json.dumps({"flags": ["GENERATOR"]}),
            }
        ],
    )
    out = cpg_props(nodes, scan(P), syn, code, imports([]), external([]), scip([]))
    got = {(r["node_id"], r["key"]): (r["value"], r["value_type"]) for r in out.to_pylist()}
    assert got[(fn, "is_async")] == ("true", "bool")
    assert got[(fn, "is_generator")] == ("true", "bool")
    assert got[(fn, "decorators")] == ('["d"]', "json")
    assert got[(param, "param_index")] == ("0", "int")
    assert got[(param, "param_kind")] == ("positional", "str")
    assert got[(cls, "bases")] == ('["object"]', "json")
    assert got[(file_, "module")] == ("pkg.mod", "str")
    assert got[(file_, "line_count")] == ("10", "int")
    assert (file_, "is_package") in got and got[(file_, "is_package")] == ("false", "bool")
    assert all(v is not None for v, _ in got.values())
