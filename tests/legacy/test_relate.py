"""Resolution rules of the legacy backend on tiny hand-built evidence (CONTRACT §8, §13.2-§13.3)."""

from __future__ import annotations

import pyarrow as pa
import pytest

from backends.contract.ids import stable_id
from backends.contract.spec import SpecPolicy
from backends.legacy.normalize import name_ref_nodes
from backends.legacy.relate import call_edges, reference_edges, structure_edges
from backends.legacy.relate_types import import_edges, inherit_edges, override_edges
from tests.legacy.builders import (
    ast_table,
    edges,
    file_id,
    imports,
    no_edges,
    node,
    row,
    scan,
    scip,
    syntax,
)

M = "m.py"
# m.py: def helper; class C: def helper, def m(self) calling helper / self.helper /
# cls.helper; def outer: def inner, inner(); class D(C): def m calling super().m().
ROWS = [
    row(M, 0, "module", 0, 1000),
    row(M, 1, "function", 0, 50, name="helper", qualname="helper", parent=0),
    row(M, 2, "class", 100, 500, name="C", qualname="C", detail={"bases": []}, parent=0),
    row(M, 3, "function", 110, 150, name="helper", qualname="C.helper", scope="C", parent=2),
    row(M, 4, "function", 160, 300, name="m", qualname="C.m", scope="C", parent=2),
    row(
        M,
        5,
        "parameter",
        166,
        170,
        name="self",
        scope="C.m",
        parent=4,
        detail={"kind": "positional", "index": 0, "has_default": False},
    ),
    row(M, 6, "call", 170, 178, name="helper", scope="C.m", expr="helper", parent=4),
    row(M, 7, "call", 180, 193, name="helper", scope="C.m", expr="self.helper", parent=4),
    row(M, 8, "call", 200, 212, name="helper", scope="C.m", expr="cls.helper", parent=4),
    row(M, 9, "function", 600, 800, name="outer", qualname="outer", parent=0),
    row(
        M,
        10,
        "function",
        610,
        650,
        name="inner",
        qualname="outer.<locals>.inner",
        scope="outer",
        parent=9,
    ),
    row(M, 11, "call", 700, 707, name="inner", scope="outer", expr="inner", parent=9),
    row(M, 12, "class", 850, 990, name="D", qualname="D", detail={"bases": ["C"]}, parent=0),
    row(M, 13, "function", 860, 950, name="m", qualname="D.m", scope="D", parent=12),
    row(M, 14, "call", 870, 881, name="m", scope="D.m", expr="super().m", parent=13),
]
SYNTAX = syntax(ROWS)
SCAN = scan(M)
NO_IMPORTS = imports([])
FN = {
    q: node("FUNCTION", M, r["bstart"], r["bend"])
    for r in ROWS
    if r["kind"] == "function"
    for q in [r["qualname"]]
}
C_ID = node("CLASS", M, 100, 500)
D_ID = node("CLASS", M, 850, 990)


def _calls(policy: SpecPolicy | None = None, scip_table: pa.Table | None = None) -> pa.Table:
    inherits = inherit_edges(SYNTAX, SCAN, NO_IMPORTS, no_edges())
    return call_edges(
        SYNTAX,
        SCAN,
        NO_IMPORTS,
        no_edges(),
        inherits,
        scip_table or scip([]),
        policy or SpecPolicy(),
    )


@pytest.mark.parametrize(
    ("call", "target", "confidence"),
    [
        ((170, 178), "helper", 0.8),  # class scope C is skipped from inside C.m
        ((180, 193), "C.helper", 0.7),  # self.X looks X up in the method's class
        ((200, 212), "C.helper", 0.7),  # cls.X too
        ((700, 707), "outer.<locals>.inner", 0.8),  # the enclosing function's scope
        ((870, 881), "C.m", 0.7),  # super().X: the MRO after the class
    ],
    ids=["class-scope-skipped", "self", "cls", "nested-scope", "super"],
)
def test_lexical_calls(call: tuple[int, int], target: str, confidence: float) -> None:
    got = edges(_calls(), "CALLS")
    assert ("CALLS", node("CALLSITE", M, *call), FN[target], confidence) in got


def test_lexical_call_edges_carry_the_callsite_span_and_lexical_source() -> None:
    table = _calls()
    rows = table.filter(
        pa.compute.equal(table["src_id"], node("CALLSITE", M, 700, 707))
    ).to_pylist()
    assert [(r["evidence_source"], r["path"], r["bstart"], r["bend"]) for r in rows] == [
        ("lexical", M, 700, 707)
    ]


_SYM = "scip-python python pkg . `m`/helper()."
_SCIP = scip(
    [
        {
            "kind": "occurrence",
            "path": M,
            "ordinal": 0,
            "symbol": _SYM,
            "roles": 1,
            "is_definition": True,
            "bstart": 4,
            "bend": 10,
        },
        {
            "kind": "occurrence",
            "path": M,
            "ordinal": 1,
            "symbol": _SYM,
            "roles": 8,
            "is_definition": False,
            "bstart": 700,
            "bend": 705,
        },
    ]
)


def test_scip_call_wins_over_lexical_resolution() -> None:
    # the occurrence ends at bstart + len("inner") and points at helper's definition
    got = edges(_calls(scip_table=_SCIP), "CALLS")
    assert ("CALLS", node("CALLSITE", M, 700, 707), FN["helper"], 1.0) in got


def test_use_scip_false_falls_back_to_lexical() -> None:
    got = edges(_calls(SpecPolicy(use_scip=False), _SCIP), "CALLS")
    assert ("CALLS", node("CALLSITE", M, 700, 707), FN["outer.<locals>.inner"], 0.8) in got


def test_inherits_from_resolves_bases_lexically() -> None:
    got = edges(inherit_edges(SYNTAX, SCAN, NO_IMPORTS, no_edges()))
    assert got == {("INHERITS_FROM", D_ID, C_ID, 0.8)}


def test_overrides_points_at_the_first_method_later_in_the_mro() -> None:
    inherits = inherit_edges(SYNTAX, SCAN, NO_IMPORTS, no_edges())
    assert edges(override_edges(SYNTAX, SCAN, inherits)) == {
        ("OVERRIDES", FN["D.m"], FN["C.m"], 0.8)
    }


def test_mro_is_depth_first_left_to_right() -> None:
    p = "d.py"
    rows = [
        row(p, 0, "module", 0, 900),
        row(p, 1, "class", 0, 100, name="A", qualname="A", detail={"bases": []}),
        row(p, 2, "function", 10, 90, name="run", qualname="A.run", scope="A"),
        row(p, 3, "class", 100, 200, name="B", qualname="B", detail={"bases": ["A"]}),
        row(p, 4, "class", 200, 300, name="X", qualname="X", detail={"bases": []}),
        row(p, 5, "function", 210, 290, name="run", qualname="X.run", scope="X"),
        row(p, 6, "class", 300, 400, name="E", qualname="E", detail={"bases": ["B", "X"]}),
        row(p, 7, "function", 310, 390, name="run", qualname="E.run", scope="E"),
    ]
    syn, sc = syntax(rows), scan(p)
    inherits = inherit_edges(syn, sc, NO_IMPORTS, no_edges())
    got = edges(override_edges(syn, sc, inherits))
    # E -> B -> A comes before X: A.run is overridden, not X.run
    assert got == {("OVERRIDES", node("FUNCTION", p, 310, 390), node("FUNCTION", p, 10, 90), 0.8)}


A, B = "pkg/a.py", "pkg/b.py"
IMP_SYNTAX = syntax(
    [
        row(A, 0, "module", 0, 100),
        row(B, 0, "module", 0, 200),
        row(B, 1, "function", 10, 50, name="f", qualname="f"),
    ]
)
IMP_SCAN = scan(A, B)
IMPORTS = imports(
    [
        {
            "path": A,
            "bstart": 5,
            "bend": 6,
            "kind": "from",
            "module": "b",
            "level": 1,
            "name": "f",
            "bound_name": "f",
            "absolute_module": "pkg.b",
            "target_kind": "attribute",
            "resolved_module": "pkg.b",
            "resolved_path": B,
            "resolved_name": "f",
        },
        {
            "path": A,
            "bstart": 7,
            "bend": 9,
            "kind": "import",
            "module": "os",
            "bound_name": "os",
            "absolute_module": "os",
            "target_kind": "external",
            "conditional": True,
            "in_try": True,
        },
        {
            "path": A,
            "bstart": 20,
            "bend": 21,
            "kind": "from",
            "level": 1,
            "name": "b",
            "bound_name": "b",
            "absolute_module": "pkg",
            "target_kind": "module",
            "resolved_module": "pkg.b",
            "resolved_path": B,
            "conditional": True,
        },
        {
            "path": A,
            "bstart": 30,
            "bend": 33,
            "kind": "import",
            "module": "pkg.zz",
            "bound_name": "pkg",
            "absolute_module": "pkg.zz",
            "target_kind": "unresolved",
        },
    ]
)
MOD_A, MOD_B = node("MODULE", A, 0, 100), node("MODULE", B, 0, 200)
OS = stable_id("EXTERNAL_MODULE", ["os"])


def test_import_edges_resolve_relative_conditional_and_external_imports() -> None:
    got = edges(import_edges(IMPORTS, IMP_SYNTAX, IMP_SCAN))
    assert got == {
        ("RESOLVES_TO", node("IMPORT", A, 5, 6), node("FUNCTION", B, 10, 50), 1.0),
        ("RESOLVES_TO", node("IMPORT", A, 7, 9), OS, 0.9),
        ("RESOLVES_TO", node("IMPORT", A, 20, 21), MOD_B, 0.9),
        # one unconditional import among the producers makes the pair 1.0
        ("IMPORTS", MOD_A, MOD_B, 1.0),
        ("IMPORTS", MOD_A, OS, 0.9),
    }


def test_calls_follow_imports_to_another_module() -> None:
    syn = syntax(
        [
            row(A, 0, "module", 0, 100),
            row(A, 1, "call", 40, 43, name="f", expr="f"),
            row(A, 2, "call", 50, 55, name="f", expr="b.f"),
            row(B, 0, "module", 0, 200),
            row(B, 1, "function", 10, 50, name="f", qualname="f"),
        ]
    )
    imp = import_edges(IMPORTS, syn, IMP_SCAN)
    got = edges(call_edges(syn, IMP_SCAN, IMPORTS, imp, no_edges(), scip([]), SpecPolicy()))
    f = node("FUNCTION", B, 10, 50)
    assert got == {
        ("CALLS", node("CALLSITE", A, 40, 43), f, 0.8),
        ("CALLS", node("CALLSITE", A, 50, 55), f, 0.8),
    }


REF_ROWS = [
    *ROWS,
    row(M, 15, "name", 170, 176, name="helper", scope="C.m", ctx="load", parent=4),  # a callee
    row(M, 16, "name", 400, 406, name="helper", scope="C", ctx="load", parent=2),
    row(M, 17, "name", 410, 415, name="nope", scope="C", ctx="load", parent=2),
    row(M, 18, "name", 420, 426, name="helper", scope="", ctx="store", parent=0),
]


def _references() -> pa.Table:
    syn = syntax(REF_ROWS)
    return reference_edges(
        syn, SCAN, NO_IMPORTS, no_edges(), no_edges(), ast_table(REF_ROWS), scip([]), SpecPolicy()
    )


def test_references_resolve_loads_that_are_not_callees() -> None:
    # in class C's own scope, helper is C.helper (a class scope is visible from itself)
    assert edges(_references()) == {
        ("REFERENCES", node("NAME_REF", M, 400, 406), FN["C.helper"], 0.8)
    }


def test_name_ref_nodes_exist_only_for_resolved_names() -> None:
    nodes = name_ref_nodes(ast_table(REF_ROWS), _references())
    assert nodes["node_id"].to_pylist() == [node("NAME_REF", M, 400, 406)]
    assert nodes["evidence_source"].to_pylist() == ["ast"]


def test_structure_edges() -> None:
    refs = _references()
    got = edges(structure_edges(syntax(REF_ROWS), SCAN, NO_IMPORTS, ast_table(REF_ROWS), refs))
    mod = node("MODULE", M, 0, 1000)
    expected = {
        ("CONTAINS", file_id(M), mod, 1.0),
        ("DEFINES", mod, FN["helper"], 1.0),
        ("DEFINES", mod, C_ID, 1.0),
        ("DEFINES", C_ID, FN["C.m"], 1.0),
        ("DEFINES", FN["outer"], FN["outer.<locals>.inner"], 1.0),
        ("HAS_PARAMETER", FN["C.m"], node("PARAMETER", M, 166, 170), 1.0),
        ("CONTAINS", FN["C.m"], node("CALLSITE", M, 170, 178), 1.0),
        ("CONTAINS", FN["outer"], node("CALLSITE", M, 700, 707), 1.0),
        ("CONTAINS", C_ID, node("NAME_REF", M, 400, 406), 1.0),
    }
    assert expected <= got
    assert len([e for e in got if e[0] == "DEFINES"]) == 8
