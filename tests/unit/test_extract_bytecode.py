"""Specification of the ``bytecode`` extractor (CONTRACT.md §5.3)."""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import pytest

from backends.contract.schemas import BYTECODE
from backends.extract import bytecode_extractor
from tests.unit.syntax_helpers import ExtractorCase, assert_contract_columns, assert_contract_types

SPAN = ("bstart", "bend", "line", "col", "end_line", "end_col")

_CASE = ExtractorCase(bytecode_extractor, path="pkg/mod.py", module="pkg.mod")
_source, _extract, _rows = _CASE.source, _CASE.extract, _CASE.rows


def _code(text: str, qualname: str) -> dict[str, Any]:
    [row] = [r for r in _rows(text, "code") if r["code_qualname"] == qualname]
    return row


SAMPLE = """\
import os

def gen(a, /, b, *args, c, **kw):
    yield os.sep

class C:
    async def m(self):
        return [x for x in self.items]
"""


def test_rows_have_exactly_the_contract_columns_except_path() -> None:
    assert_contract_columns(_rows(SAMPLE), BYTECODE)


def test_rows_convert_to_the_contract_arrow_schema() -> None:
    assert_contract_types(_rows(SAMPLE), BYTECODE, "pkg/mod.py")


def test_ordinals_are_row_indexes() -> None:
    rows = _rows(SAMPLE)
    assert [r["ordinal"] for r in rows] == list(range(len(rows)))


def test_extracting_twice_gives_identical_rows() -> None:
    assert _extract(SAMPLE) == _extract(SAMPLE)


def test_one_code_row_per_code_object_with_cpython_qualnames() -> None:
    found = [(r["code_qualname"], r["name"]) for r in _rows(SAMPLE, "code")]
    assert found == [
        ("", "<module>"),
        ("gen", "gen"),
        ("C", "C"),
        ("C.m", "m"),
        ("C.m.<locals>.<listcomp>", "<listcomp>"),
    ]


def test_code_detail_has_argument_counts_flags_and_first_line() -> None:
    assert json.loads(_code(SAMPLE, "gen")["detail"]) == {
        "argcount": 2,
        "posonlyargcount": 1,
        "kwonlyargcount": 1,
        "flags": ["CO_GENERATOR", "CO_NEWLOCALS", "CO_OPTIMIZED", "CO_VARARGS", "CO_VARKEYWORDS"],
        "firstlineno": 3,
    }


def test_coroutine_flag() -> None:
    assert "CO_COROUTINE" in json.loads(_code(SAMPLE, "C.m")["detail"])["flags"]


def test_code_rows_have_only_a_line() -> None:
    row = _code(SAMPLE, "C.m")
    assert {c: row[c] for c in SPAN} == {**dict.fromkeys(SPAN), "line": 7}
    assert row["opname"] is None


def test_instr_rows_are_only_name_bearing_instructions() -> None:
    rows = _rows(SAMPLE, "instr")
    assert rows
    assert {r["opname"] for r in rows} <= bytecode_extractor.NAME_OPNAMES


@pytest.mark.parametrize(
    ("text", "qualname", "opname", "name"),
    [
        ("import os.path\n", "", "IMPORT_NAME", "os.path"),
        ("from os import sep\n", "", "IMPORT_FROM", "sep"),
        ("x = 1\n", "", "STORE_NAME", "x"),
        ("del x\n", "", "DELETE_NAME", "x"),
        ("def f():\n    return print\n", "f", "LOAD_GLOBAL", "print"),
        ("def f(a):\n    return a\n", "f", "LOAD_FAST", "a"),
        ("def f():\n    global g\n    g = 1\n", "f", "STORE_GLOBAL", "g"),
        ("def f(o):\n    o.attr = 1\n", "f", "STORE_ATTR", "attr"),
        ("def f(o):\n    return o.attr\n", "f", "LOAD_ATTR", "attr"),
        ("def f(a):\n    return lambda: a\n", "f", "LOAD_CLOSURE", "a"),
        ("def f(a):\n    return lambda: a\n", "f.<locals>.<lambda>", "LOAD_DEREF", "a"),
    ],
)
def test_instr_rows_name_their_argument(text: str, qualname: str, opname: str, name: str) -> None:
    rows = _rows(text, "instr")
    assert any(
        (r["code_qualname"], r["opname"], r["name"]) == (qualname, opname, name) for r in rows
    )


def test_instr_span_of_a_name_in_a_cjk_line_points_at_its_bytes() -> None:
    source = _source('标题 = "😀"\r\n结果 = 标题 + "你好"\r\n')
    rows = bytecode_extractor.extract(source).rows
    [load] = [r for r in rows if r["opname"] == "LOAD_NAME" and r["name"] == "标题"]
    assert source.data[load["bstart"] : load["bend"]].decode() == "标题"
    assert (load["line"], load["col"], load["end_col"]) == (
        2,
        len("结果 = ".encode()),
        len("结果 = 标题".encode()),
    )


def test_compiling_never_executes_the_file(tmp_path: Path) -> None:
    marker = tmp_path / "executed"
    text = f"import pathlib\npathlib.Path({str(marker)!r}).touch()\nraise SystemExit(3)\n"
    assert _rows(text, "code")
    assert not marker.exists()


def test_asserts_are_compiled_whatever_the_interpreter_optimization_level() -> None:
    rows = _rows("def f(flag):\n    assert flag, 'no'\n", "instr")
    assert any(r["opname"] == "LOAD_FAST" and r["name"] == "flag" for r in rows)


@pytest.mark.parametrize(
    "text",
    ["def f(:\n", "return 1\n", "x = 1\0\n", "def f():\n    x = 1\n    global x\n"],
    ids=["parse", "return-outside-function", "nul-byte", "global-after-assignment"],
)
def test_rejected_text_gives_a_syntax_warning_and_no_rows(text: str) -> None:
    result = bytecode_extractor.extract(_source(text))
    assert (result.rows, [w.code for w in result.warnings]) == ([], ["EXTRACT_SYNTAX_ERROR"])


STATICALLY_NESTED = (
    "".join("    " * i + "for x in y:\n" for i in range(30)) + "    " * 30 + "pass\n"
)


@pytest.mark.parametrize(
    "text",
    [
        "(" * 5000 + ")" * 5000,
        "x = " + "[" * 300 + "]" * 300,
        "-" * 100_000 + "1",
        "a" + ".b" * 50_000,
        STATICALLY_NESTED,
    ],
    ids=["parens-5000", "lists-300", "unary-100000", "attributes-50000", "blocks-30"],
)
def test_too_deep_nesting_gives_a_recursion_warning(text: str) -> None:
    result = bytecode_extractor.extract(_source(text))
    assert (result.rows, [w.code for w in result.warnings]) == ([], ["EXTRACT_RECURSION_LIMIT"])


def test_compiler_warnings_do_not_fail_the_file_even_when_warnings_are_errors() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = bytecode_extractor.extract(_source("ok = x is 1\nassert (x, 'msg')\n"))
    assert result.warnings == []
    assert any(r["opname"] == "STORE_NAME" and r["name"] == "ok" for r in result.rows)
