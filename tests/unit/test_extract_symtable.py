"""Specification of the ``symtable`` extractor (CONTRACT.md §5.4)."""

from __future__ import annotations

import pytest

from backends.contract.schemas import SYMTABLE
from backends.extract import ast_extractor, symtable_extractor
from tests.unit.syntax_helpers import (
    NESTED_SCOPES,
    ExtractorCase,
    assert_contract_columns,
    assert_contract_types,
    code_objects,
)

_CASE = ExtractorCase(symtable_extractor, path="pkg/mod.py", module="pkg.mod")
_source, _extract, _rows = _CASE.source, _CASE.extract, _CASE.rows


def _flags(text: str, scope: str, name: str) -> list[str]:
    [row] = [r for r in _rows(text, "symbol") if r["scope_qualname"] == scope and r["name"] == name]
    flags: list[str] = row["flags"]
    return flags


SAMPLE = """\
import os

class C:
    attr: int = 1
    def m(self, x):
        return [os.sep for _ in x]

def f():
    return lambda: f
"""


def test_rows_have_exactly_the_contract_columns_except_path() -> None:
    assert_contract_columns(_rows(SAMPLE), SYMTABLE)


def test_rows_convert_to_the_contract_arrow_schema() -> None:
    assert_contract_types(_rows(SAMPLE), SYMTABLE, "pkg/mod.py")


def test_each_scope_row_is_followed_by_its_symbols_sorted_by_name() -> None:
    rows = _rows(SAMPLE)
    assert [r["ordinal"] for r in rows] == list(range(len(rows)))
    current = None
    names: list[str] = []
    for row in rows:
        if row["kind"] == "scope":
            assert names == sorted(names)
            current, names = row["scope_qualname"], []
        else:
            assert row["scope_qualname"] == current
            names.append(row["name"])
    assert names == sorted(names)


def test_extracting_twice_gives_identical_rows() -> None:
    assert _extract(SAMPLE) == _extract(SAMPLE)


def test_scope_rows_have_type_name_and_line() -> None:
    scopes = [
        (r["scope_qualname"], r["scope_type"], r["name"], r["line"]) for r in _rows(SAMPLE, "scope")
    ]
    assert scopes == [
        ("", "module", "top", 0),
        ("C", "class", "C", 3),
        ("C.m", "function", "m", 5),
        ("C.m.<locals>.<listcomp>", "function", "listcomp", 6),
        ("f", "function", "f", 8),
        ("f.<locals>.<lambda>", "function", "lambda", 9),
    ]


def test_symbols_have_no_span() -> None:
    columns = ("bstart", "bend", "line", "col", "end_line", "end_col")
    assert all(r[c] is None for r in _rows(SAMPLE, "symbol") for c in columns)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("def f():\n    def g(): pass\n", ["f", "f.<locals>.g"]),
        ("class C:\n    def m(self): pass\n", ["C", "C.m"]),
        ("def f():\n    class C: pass\n", ["f", "f.<locals>.C"]),
        ("def f():\n    return [x for x in ()]\n", ["f", "f.<locals>.<listcomp>"]),
        ("class C:\n    s = {x for x in ()}\n", ["C", "C.<setcomp>"]),
        ("g = (x for x in ())\n", ["<genexpr>"]),
        ("d = {k: v for k, v in ()}\n", ["<dictcomp>"]),
        ("f = lambda: 0\n", ["<lambda>"]),
        ("x = [lambda: i for i in ()]\n", ["<listcomp>", "<listcomp>.<lambda>"]),
        ("def listcomp():\n    pass\n", ["listcomp"]),
        ("def f():\n    global g\n    def g(): pass\n", ["f", "g"]),
        ("class C:\n    global __h\n    def __h(self): pass\n", ["C", "__h"]),
    ],
)
def test_scope_qualnames_follow_cpython(text: str, expected: list[str]) -> None:
    assert [r["scope_qualname"] for r in _rows(text, "scope")][1:] == expected


TRICKY = NESTED_SCOPES + "        return (lambda: 0, {i for i in ()}, (j for j in ()))\n"


def test_scope_qualnames_equal_the_compiled_co_qualnames() -> None:
    compiled = [code.co_qualname for code in code_objects(TRICKY, "tricky.py")]
    found = [r["scope_qualname"] for r in _rows(TRICKY, "scope")]
    assert sorted(found[1:]) == sorted(q for q in compiled if q != "<module>")


def test_scope_qualnames_equal_the_ast_extractor_qualnames() -> None:
    ast_rows = ast_extractor.extract(_source(TRICKY)).rows
    definitions = sorted(
        r["qualname"] for r in ast_rows if r["kind"] in {"class", "function", "lambda"}
    )
    scopes = sorted(
        r["scope_qualname"]
        for r in _rows(TRICKY, "scope")
        if r["scope_type"] != "module"
        and not r["scope_qualname"].endswith("comp>")
        and not r["scope_qualname"].endswith("<genexpr>")
    )
    assert scopes == definitions


FLAG_SOURCE = """\
import os
from typing import Any
counter = 0
hint: Any

def bump(step, *rest, key=None, **options):
    global counter
    counter += step
    total = 0
    def inner():
        nonlocal total
        total += 1
        return os
    def reader():
        return total
    return inner, reader

class C:
    def m(self):
        return __class__
"""


@pytest.mark.parametrize(
    ("scope", "name", "expected"),
    [
        ("", "os", ["global", "imported", "local"]),
        ("", "Any", ["global", "imported", "local", "referenced"]),
        # CPython records a nested `global` declaration on the module's own symbol, and an
        # annotation of a simple name counts as an assignment.
        ("", "counter", ["assigned", "declared_global", "global", "local"]),
        ("", "hint", ["annotated", "assigned", "global", "local"]),
        ("", "bump", ["assigned", "global", "local", "namespace"]),
        # An augmented assignment target is only a store for the symbol table.
        ("bump", "counter", ["assigned", "declared_global", "global"]),
        ("bump", "step", ["local", "parameter", "referenced"]),
        ("bump", "rest", ["local", "parameter"]),
        ("bump", "options", ["local", "parameter"]),
        ("bump", "total", ["assigned", "local"]),
        ("bump", "inner", ["assigned", "local", "namespace", "referenced"]),
        ("bump.<locals>.inner", "total", ["assigned", "free", "nonlocal"]),
        ("bump.<locals>.inner", "os", ["global", "referenced"]),
        ("bump.<locals>.reader", "total", ["free", "referenced"]),
        ("C.m", "__class__", ["free", "referenced"]),
    ],
)
def test_symbol_flags(scope: str, name: str, expected: list[str]) -> None:
    assert _flags(FLAG_SOURCE, scope, name) == expected


@pytest.mark.parametrize(
    "text",
    ["def f(:\n", "nonlocal x\n", "def f(a, a): pass\n", "x = 1\0\n"],
    ids=["parse", "nonlocal-at-module", "duplicate-argument", "nul-byte"],
)
def test_rejected_text_gives_a_syntax_warning_and_no_rows(text: str) -> None:
    result = symtable_extractor.extract(_source(text))
    assert (result.rows, [w.code for w in result.warnings]) == ([], ["EXTRACT_SYNTAX_ERROR"])


@pytest.mark.parametrize(
    "text",
    ["(" * 5000 + ")" * 5000, "x = " + "[" * 300 + "]" * 300, "-" * 100_000 + "1"],
    ids=["parens-5000", "lists-300", "unary-100000"],
)
def test_too_deep_nesting_gives_a_recursion_warning(text: str) -> None:
    result = symtable_extractor.extract(_source(text))
    assert (result.rows, [w.code for w in result.warnings]) == ([], ["EXTRACT_RECURSION_LIMIT"])
