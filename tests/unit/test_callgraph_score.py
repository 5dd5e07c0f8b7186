"""The call-graph suite's scorer (tests/callgraph_suite/score.py) on hand-made edge sets:
counts, precision and recall, the vacuous cases (never a pass), the expectation files'
validation, the reading of a run, and the ast reading of the programs' definitions."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pytest
from deltalake import write_deltalake

from tests.callgraph_suite.score import (
    NO_EVIDENCE,
    SCORED,
    Program,
    ScoreError,
    decode_program,
    defined_qualnames,
    format_table,
    found_edges,
    is_well_formed,
    load_programs,
    program_sources,
    score,
    score_run,
)

M = "cgsuite.arguments.cb"
N = "cgsuite.lists.idx"


def prog(kind: str, name: str, graph: dict[str, list[str]]) -> Program:
    return Program(kind, name, {k: tuple(sorted(v)) for k, v in graph.items()})


CB = prog("arguments", "cb", {M: [f"{M}.call_it"], f"{M}.call_it": [f"{M}.greet", "builtins.len"]})
IDX = prog("lists", "idx", {N: [f"{N}.first"]})
PERFECT = {(M, f"{M}.call_it"), (f"{M}.call_it", f"{M}.greet"), (f"{M}.call_it", "builtins.len")}


def test_a_perfect_graph_scores_one_and_one() -> None:
    result = score([CB, IDX], PERFECT | {(N, f"{N}.first")})
    assert (result.overall.tp, result.overall.fp, result.overall.fn) == (4, 0, 0)
    assert result.overall.precision == 1.0
    assert result.overall.recall == 1.0
    assert result.overall.status == SCORED
    assert result.kinds["arguments"].recall == 1.0
    assert result.programs_per_kind == {"arguments": 1, "lists": 1}


def test_a_missing_edge_lowers_recall_not_precision() -> None:
    result = score([CB], PERFECT - {(f"{M}.call_it", f"{M}.greet")})
    (only,) = result.programs
    assert (only.counts.tp, only.counts.fp, only.counts.fn) == (2, 0, 1)
    assert only.counts.precision == 1.0
    assert only.counts.recall == pytest.approx(2 / 3)
    assert only.missing == [(f"{M}.call_it", f"{M}.greet")]
    assert result.to_dict()["programs"]["arguments/cb"]["missing"] == [f"{M}.call_it -> {M}.greet"]


def test_an_extra_edge_lowers_precision_not_recall() -> None:
    result = score([CB], PERFECT | {(f"{M}.call_it", f"{M}.other")})
    assert (result.overall.tp, result.overall.fp, result.overall.fn) == (3, 1, 0)
    assert result.overall.precision == pytest.approx(3 / 4)
    assert result.overall.recall == 1.0
    assert result.programs[0].extra == [(f"{M}.call_it", f"{M}.other")]


def test_edges_are_scored_against_the_program_whose_caller_they_have() -> None:
    # a caller of another program (or a prefix look-alike) is not this program's false positive
    found = PERFECT | {(N, f"{N}.first"), (f"{M}x", f"{M}.greet"), ("cgsuite.other", "x.y")}
    result = score([CB, IDX], found)
    assert result.overall.fp == 0
    assert result.overall.tp == 4


def test_nothing_expected_and_nothing_found_is_no_evidence_not_a_pass() -> None:
    empty = prog("dynamic_code", "nothing", {})
    result = score([empty], set())
    for counts in (result.programs[0].counts, result.kinds["dynamic_code"], result.overall):
        assert counts.status == NO_EVIDENCE
        assert counts.precision is None
        assert counts.recall is None
    targets = result.targets()
    assert targets["precision"]["met"] is None
    assert targets["recall"]["met"] is None
    assert targets["kind_recall"]["met"] is None
    assert "no evidence" in format_table(result)
    assert "100.0%" not in format_table(result)


def test_a_kind_with_no_evidence_is_reported_beside_scored_kinds() -> None:
    result = score([CB, prog("lists", "none", {})], PERFECT)
    assert result.kinds["arguments"].status == SCORED
    assert result.kinds["lists"].status == NO_EVIDENCE
    assert result.kinds["lists"].recall is None
    # the 1.1 per-kind target counts a kind without evidence as not met
    assert result.targets()["kind_recall"]["kinds_below"] == ["lists"]


def test_nothing_found_gives_null_precision_and_zero_recall() -> None:
    result = score([CB], set())
    assert result.overall.status == SCORED
    assert result.overall.precision is None
    assert result.overall.recall == 0.0
    assert result.targets()["recall"]["met"] is False


def test_found_edges_with_nothing_expected_give_zero_precision() -> None:
    result = score([prog("lists", "none", {})], {("cgsuite.lists.none", "builtins.print")})
    assert result.overall.precision == 0.0
    assert result.overall.recall is None


def test_the_targets_exempt_dynamic_code_only() -> None:
    dyn = prog("dynamic_code", "ev", {"cgsuite.dynamic_code.ev": ["builtins.eval", "x.f"]})
    found = PERFECT | {("cgsuite.dynamic_code.ev", "builtins.eval")}
    targets = score([CB, dyn], found).targets()
    assert targets["kind_recall"]["kinds_below"] == []
    assert targets["kind_recall"]["met"] is True
    assert targets["recall"]["met"] is False  # 4 of 5 overall


@pytest.mark.parametrize(
    "name",
    ["a.b", "a.f.<locals>.g", "a.<lambda_0>", "a.m.<locals>.<lambda_12>", "builtins.list.append"],
)
def test_well_formed_qualnames(name: str) -> None:
    assert is_well_formed(name)


@pytest.mark.parametrize(
    "name",
    [
        "",
        ".a",
        "a.",
        "a..b",
        "a.<lambda>",
        "a.<lambda_01>",
        "<locals>.a",
        "a.f.<locals>",
        "a.f.<locals>.<locals>.g",
        "a b",
        "1a.b",
    ],
)
def test_malformed_qualnames(name: str) -> None:
    assert not is_well_formed(name)


def test_an_expectation_file_is_validated() -> None:
    good = json.dumps({M: [f"{M}.a", "builtins.len"]}).encode()
    with pytest.raises(ScoreError, match="not sorted"):
        decode_program("arguments", "cb", good, source="x.json")
    ok = decode_program(
        "arguments", "cb", json.dumps({M: ["builtins.len", f"{M}.a"]}).encode(), source="x.json"
    )
    assert ok.edges() == {(M, "builtins.len"), (M, f"{M}.a")}
    for bad, message in [
        (b"[1]", "expected an object"),
        (b"{", "not JSON"),
        (json.dumps({"cgsuite.lists.x": ["a.b"]}).encode(), "is not a qualname of"),
        (json.dumps({M: []}).encode(), "non-empty list"),
        (json.dumps({M: ["a.<lambda>"]}).encode(), "well-formed"),
    ]:
        with pytest.raises(ScoreError, match=message) as info:
            decode_program("arguments", "cb", bad, source="x.json")
        assert "x.json" in str(info.value)


def test_no_expectation_files_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ScoreError, match="no expectations folder"):
        load_programs(tmp_path / "absent")
    with pytest.raises(ScoreError, match="no expectation files"):
        load_programs(tmp_path)


def test_a_run_without_outputs_is_an_error_not_a_score(tmp_path: Path) -> None:
    with pytest.raises(ScoreError, match="no cpg_nodes output table"):
        found_edges(tmp_path)
    with pytest.raises(ScoreError, match="no cpg_nodes"):
        score_run(tmp_path, [CB])


def _write_run(
    run: Path, nodes: list[tuple[str, str, str | None]], edges: list[tuple[str, str, str]]
) -> None:
    write_deltalake(
        str(run / "outputs" / "cpg_nodes"),
        pa.table(
            {
                "node_id": pa.array([n[0] for n in nodes], pa.string()),
                "kind": pa.array([n[1] for n in nodes], pa.string()),
                "qualname": pa.array([n[2] for n in nodes], pa.string()),
            }
        ),
    )
    write_deltalake(
        str(run / "outputs" / "cpg_edges"),
        pa.table(
            {
                "kind": pa.array([e[0] for e in edges], pa.string()),
                "src_id": pa.array([e[1] for e in edges], pa.string()),
                "dst_id": pa.array([e[2] for e in edges], pa.string()),
            }
        ),
    )


def test_a_run_with_empty_tables_is_an_error(tmp_path: Path) -> None:
    _write_run(tmp_path, [], [])
    with pytest.raises(ScoreError, match="has no nodes"):
        found_edges(tmp_path)


def test_found_edges_name_the_scope_containing_the_callsite(tmp_path: Path) -> None:
    nodes = [
        ("m", "MODULE", M),
        ("f", "FUNCTION", f"{M}.call_it"),
        ("g", "FUNCTION", f"{M}.greet"),
        ("c1", "CALLSITE", None),
        ("c2", "CALLSITE", None),
    ]
    edges = [
        ("CONTAINS", "m", "c1"),
        ("CALLS", "c1", "f"),
        ("CONTAINS", "f", "c2"),
        ("CALLS", "c2", "g"),
        ("DEFINES", "m", "f"),  # not a call
    ]
    _write_run(tmp_path, nodes, edges)
    assert found_edges(tmp_path) == {(M, f"{M}.call_it"), (f"{M}.call_it", f"{M}.greet")}
    result = score_run(tmp_path, [CB])
    assert (result.overall.tp, result.overall.fp, result.overall.fn) == (2, 0, 1)


def test_a_run_missing_a_programs_module_is_an_error(tmp_path: Path) -> None:
    _write_run(tmp_path, [("m", "MODULE", M)], [])
    with pytest.raises(ScoreError, match="1 suite programs have no MODULE node"):
        score_run(tmp_path, [CB, IDX])


def test_definitions_are_read_with_ast_and_lambdas_numbered_per_scope(tmp_path: Path) -> None:
    source = tmp_path / "p.py"
    source.write_text(
        "raise SystemExit('never run')\n"
        "f = lambda: 0\n"
        "class C:\n"
        "    def m(self):\n"
        "        def inner():\n"
        "            return lambda: 1\n"
        "        return lambda: 2, lambda: 3\n"
        "g = lambda: 4\n"
    )
    assert defined_qualnames({"pkg.p": source}) == {
        "pkg.p",
        "pkg.p.<lambda_0>",
        "pkg.p.<lambda_1>",
        "pkg.p.C",
        "pkg.p.C.m",
        "pkg.p.C.m.<locals>.inner",
        "pkg.p.C.m.<locals>.inner.<locals>.<lambda_0>",
        "pkg.p.C.m.<locals>.<lambda_0>",
        "pkg.p.C.m.<locals>.<lambda_1>",
    }


def test_program_sources_name_modules_and_packages(tmp_path: Path) -> None:
    kind = tmp_path / "cgsuite" / "imports"
    (kind / "pkg" / "sub").mkdir(parents=True)
    for rel in ("__init__.py", "one.py", "pkg/__init__.py", "pkg/main.py", "pkg/sub/__init__.py"):
        (kind / rel).write_text("")
    assert program_sources(tmp_path) == {
        "imports/one": {"cgsuite.imports.one": kind / "one.py"},
        "imports/pkg": {
            "cgsuite.imports.pkg": kind / "pkg" / "__init__.py",
            "cgsuite.imports.pkg.main": kind / "pkg" / "main.py",
            "cgsuite.imports.pkg.sub": kind / "pkg" / "sub" / "__init__.py",
        },
    }
    with pytest.raises(ScoreError, match="no cgsuite package"):
        program_sources(tmp_path / "nowhere")
