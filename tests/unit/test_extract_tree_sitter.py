"""Specification of the ``tree_sitter`` extractor (CONTRACT.md §3, §5.2).

Agreement with the ``cst`` and ``ast`` extractors and the span rules shared by all parsers
are specified in test_extract_cst.py; this file covers what only tree-sitter does: partial
parses with ``error`` rows, hostile nesting, and the quirks of its grammar.
"""

from __future__ import annotations

import json

import pytest

from backends.contract.schemas import TREE_SITTER
from backends.extract import cst_extractor, tree_sitter_extractor
from tests.unit.syntax_helpers import (
    DECORATED_CLASS,
    ExtractorCase,
    assert_contract_columns,
    assert_contract_types,
    assert_rows_form_a_scope_tree,
    span_text,
)

SAMPLE = "'''Module doc.'''\nimport os\nfrom .pkg import thing as alias\n\n" + DECORATED_CLASS

# Files with syntax errors still give rows (and a warning): rows are read whatever the warnings.
_CASE = ExtractorCase(tree_sitter_extractor, path="m.py", module="m", clean=False)
_source, _extract, _rows = _CASE.source, _CASE.extract, _CASE.rows


# -- the table shape ----------------------------------------------------------------------------


def test_rows_have_exactly_the_contract_columns_except_path() -> None:
    assert_contract_columns(_rows(SAMPLE), TREE_SITTER)


def test_rows_convert_to_the_contract_arrow_schema() -> None:
    assert_contract_types(_rows(SAMPLE + "def broken(:\n"), TREE_SITTER, "m.py")


def test_ordinals_are_row_indexes_and_parents_are_earlier_definitions() -> None:
    assert_rows_form_a_scope_tree(_rows(SAMPLE))


def test_a_clean_file_has_no_error_rows_and_no_warning() -> None:
    result = _extract(SAMPLE)
    assert result.warnings == []
    assert not any(r["is_error"] for r in result.rows)


# -- partial parses -----------------------------------------------------------------------------


def test_a_syntax_error_gives_error_rows_the_other_rows_and_one_warning() -> None:
    result = _extract("import os\nx = (1,\ndef f(a):\n    return g(a)\n")
    errors = [r for r in result.rows if r["kind"] == "error"]
    assert errors and all(r["is_error"] and r["expr"] in ("ERROR", "MISSING") for r in errors)
    assert not any(r["is_error"] for r in result.rows if r["kind"] != "error")
    assert any(r["kind"] == "import" and r["expr"] == "os" for r in result.rows)
    [warning] = result.warnings
    assert warning.code == "EXTRACT_PARTIAL_PARSE"
    assert json.loads(warning.detail or "") == {"errors": len(errors)}
    assert (warning.bstart, warning.bend) == (errors[0]["bstart"], errors[0]["bend"])


def test_a_missing_token_is_a_zero_width_missing_row() -> None:
    [error] = _rows("def f(:\n    pass\n", "error")
    assert (error["expr"], error["bend"] - error["bstart"]) == ("MISSING", 0)


@pytest.mark.parametrize(
    "text",
    [
        'print "hello"\nexec "x = 1"\nprint >>sys.stderr, "x"\n',
        "try:\n    pass\nexcept Exception, e:\n    raise E, 'x'\n",
        "x = `1`\n",
    ],
    ids=["print_exec", "except_comma", "backticks"],
)
def test_python_2_files_give_rows_and_never_raise(text: str) -> None:
    result = _extract(text)
    assert result.rows[0]["kind"] == "module"
    # Python 2 statements are not calls: `print "x"` must not look like `print("x")`.
    assert not [r for r in result.rows if r["kind"] == "call"]


# -- hostile nesting ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "calls"),
    [
        ("x = " + "(" * 5000 + "f()" + ")" * 5000 + "\n", 1),
        ("x = " + "[" * 3000 + "f()" + "]" * 3000 + "\n", 1),
        ("x = a" + ".b" * 5000 + "()\n", 1),
        ("x = " + " + ".join(["f()"] * 5000) + "\n", 5000),
    ],
    ids=["parens", "lists", "attribute_chain", "long_sum"],
)
def test_deep_nesting_is_walked_without_recursion(text: str, calls: int) -> None:
    result = _extract(text)
    assert sum(r["kind"] == "call" for r in result.rows) == calls


# -- grammar quirks -----------------------------------------------------------------------------


def test_type_call_read_as_a_type_alias_still_gives_the_call() -> None:
    # tree-sitter-python 0.25 parses `type(obj).attr = v` as a `type X = ...` statement.
    text = "def f(obj):\n    type(obj).attr = 1\n"
    source = _source(text)
    [call] = [r for r in tree_sitter_extractor.extract(source).rows if r["kind"] == "call"]
    assert (call["expr"], span_text(source, call)) == ("type", "type(obj)")
    assert call["scope_qualname"] == "f"


def test_backslash_continuations_are_not_arguments() -> None:
    [call] = _rows("f(a, \\\n  b)\n", "call")
    assert json.loads(call["detail"]) == {"nargs": 2, "nkeywords": 0}


def test_trailing_comments_of_a_block_are_outside_the_definition() -> None:
    text = "class C:\n    def m(self):\n        return 1\n        # end of m\n    # end of C\n"
    source = _source(text)
    spans = {
        r["name"]: span_text(source, r) for r in _rows(text) if r["kind"] in ("class", "function")
    }
    assert spans == {
        "C": "class C:\n    def m(self):\n        return 1",
        "m": "def m(self):\n        return 1",
    }


@pytest.mark.parametrize(
    "text",
    [
        "__all__ = 'a', 'b'\n",
        "__all__ = x = ['a', 'b']\n",
        "__all__: list[str] = ['a', 'b']\n",
        "__all__ = ['a' 'b', \"c\"]\n",
    ],
)
def test_module_all_agrees_with_cst_on_every_assignment_form(text: str) -> None:
    source = _source(text)
    mine = tree_sitter_extractor.extract(source).rows[0]["detail"]
    assert mine == cst_extractor.extract(source).rows[0]["detail"]
    assert json.loads(mine)["all"] is not None
