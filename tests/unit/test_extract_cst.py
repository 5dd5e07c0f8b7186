"""Specification of the ``cst`` extractor (CONTRACT.md §3, §5.2), and of its agreement with the
``tree_sitter`` and ``ast`` extractors on every kind the three share."""

from __future__ import annotations

import sys
from collections import Counter
from types import ModuleType
from typing import Any

import libcst
import pytest

from backends.contract.schemas import CST
from backends.extract import ast_extractor, cst_extractor, tree_sitter_extractor
from backends.extract.result import FileResult
from tests.unit.syntax_helpers import (
    ExtractorCase,
    assert_contract_columns,
    assert_contract_types,
    assert_rows_form_a_scope_tree,
    code_objects,
    detail_of,
    span_text,
)

SHARED_KINDS = frozenset(
    {"module", "class", "function", "lambda", "parameter", "call", "import", "global", "nonlocal"}
)
SPAN_EXTRACTORS = pytest.mark.parametrize(
    "extractor", [cst_extractor, tree_sitter_extractor], ids=["cst", "tree_sitter"]
)

RICH = '''\
"""Rich sample."""
from __future__ import annotations
import os, os.path as osp
from . import sibling
from ..pkg.mod import (x as y, z)
from m import *
from typing import TYPE_CHECKING
import importlib, typing
if TYPE_CHECKING:
    from collections.abc import Iterator
elif typing.TYPE_CHECKING:
    import never
try:
    import ujson as json
except ImportError:
    json = importlib.import_module("json")
finally:
    __import__("gc")
__all__ = ["C", "f"]
__all__ += ("g",)

@decorator  # why
@app.route("/x", methods=["GET"])
class C(Base, Generic[T], *mixins, metaclass=Meta, **extra):
    """Doc."""
    attr = [lambda q: q for _ in range(3)]

    def m(self, a, /, b: int = 1, *args: os.PathLike, c, d=lambda: 0, **kw) -> None:
        super().m(a, b, *args, key=c, **kw)
        self.helper().chain(1)(2)
        x = 1
        def inner():
            nonlocal x
            global G
            import inner_mod
            return importlib.import_module(".rel", package=__name__);
        return inner

    @staticmethod
    async def am(*, k): await other(k);  # trailing comment
    # comment after the body

def f(p1, p2=(lambda z=g(): z)()):
    global hoisted
    def hoisted(): pass
    class Local:
        def meth(self): pass
    return [lambda: n for n in (lambda: 1,)], {k: (lambda: v) for k, v in {}.items()}

def g():
    if x: a;
print(f"{f(1)!r} and {g()}")
lam = lambda a, *b, c=1, **d: a(b)
'''


_CASE = ExtractorCase(cst_extractor, path="m.py", module="m")
_source, _extract, _rows, _one = _CASE.source, _CASE.extract, _CASE.rows, _CASE.one


def _shared(result: FileResult, *, detail: bool) -> Counter[tuple[Any, ...]]:
    columns = ["kind", "name", "qualname", "scope_qualname", "expr", "bstart", "bend"]
    columns += ["detail"] if detail else []
    return Counter(tuple(r[c] for c in columns) for r in result.rows if r["kind"] in SHARED_KINDS)


# -- the table shape ----------------------------------------------------------------------------


def test_rows_have_exactly_the_contract_columns_except_path() -> None:
    assert_contract_columns(_rows(RICH), CST)


def test_rows_convert_to_the_contract_arrow_schema() -> None:
    assert_contract_types(_rows(RICH), CST, "m.py")


def test_ordinals_are_row_indexes_and_parents_are_earlier_definitions() -> None:
    assert_rows_form_a_scope_tree(_rows(RICH))


def test_extraction_is_deterministic() -> None:
    assert _extract(RICH) == _extract(RICH)


# -- agreement with the other parsers -----------------------------------------------------------


@pytest.mark.parametrize(
    "other", [tree_sitter_extractor, ast_extractor], ids=["tree_sitter", "ast"]
)
@pytest.mark.parametrize("newline", ["\n", "\r\n"], ids=["lf", "crlf"])
@pytest.mark.parametrize("detail", [False, True], ids=["facts_and_spans", "details"])
def test_shared_kinds_agree_with_the_other_parsers(
    other: ModuleType, newline: str, detail: bool
) -> None:
    source = _source(RICH.replace("\n", newline))
    mine, theirs = cst_extractor.extract(source), other.extract(source)
    assert mine.warnings == theirs.warnings == []
    assert _shared(mine, detail=detail) == _shared(theirs, detail=detail)


def test_definition_qualnames_are_the_interpreters() -> None:
    # Our own fixture, compiled (never executed): CPython's compiler is the oracle.
    expected = {
        code.co_qualname
        for code in code_objects(RICH, "m.py")
        if not code.co_name.endswith("comp>") and code.co_name not in ("<module>", "<genexpr>")
    }
    rows = _rows(RICH)
    assert {r["qualname"] for r in rows if r["kind"] in ("class", "function", "lambda")} == expected


# -- spans --------------------------------------------------------------------------------------

UNICODE = (
    '# 😀 émoji\r\nx = "😀"; y = f(1)\r\n'
    'def 函数(参数: 类型 = "😀"):\r\n\treturn print("😀", 参数)\r\n'
)


@SPAN_EXTRACTORS
@pytest.mark.parametrize(
    ("kind", "name", "text"),
    [
        ("call", "f", "f(1)"),
        ("function", "函数", 'def 函数(参数: 类型 = "😀"):\r\n\treturn print("😀", 参数)'),
        ("parameter", "参数", "参数"),
        ("call", "print", 'print("😀", 参数)'),
    ],
)
def test_spans_are_canonical_bytes_on_unicode_crlf_and_tab_lines(
    extractor: ModuleType, kind: str, name: str, text: str
) -> None:
    source = _source(UNICODE)
    [row] = [r for r in extractor.extract(source).rows if (r["kind"], r["name"]) == (kind, name)]
    assert span_text(source, row) == text
    assert (row["line"], row["col"]) == source.lines.position(row["bstart"])
    assert (row["end_line"], row["end_col"]) == source.lines.position(row["bend"])


@SPAN_EXTRACTORS
def test_identifiers_are_nfkc_normalized_but_spans_keep_the_written_text(
    extractor: ModuleType,
) -> None:
    source = _source("def ﬁx(ａ): pass\n")
    rows = extractor.extract(source).rows
    [param] = [r for r in rows if r["kind"] == "parameter"]
    assert [r["qualname"] for r in rows if r["kind"] == "function"] == ["fix"]
    assert (param["name"], span_text(source, param)) == ("a", "ａ")


@SPAN_EXTRACTORS
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("@dec\ndef f():\n    return 1\n    # trailing\n\n", "def f():\n    return 1"),
        ("def f(): return 1;  # c\n", "def f(): return 1"),
        ("def f():\n    if x: a;\n", "def f():\n    if x: a;"),  # CPython keeps this `;`
        ("class C:\n    x = 1\n\n    # footer\ny = 2\n", "class C:\n    x = 1"),
        ("async def f():\n    await g()\n", "async def f():\n    await g()"),
    ],
)
def test_definition_spans_run_from_the_keyword_to_the_last_statement(
    extractor: ModuleType, text: str, expected: str
) -> None:
    source = _source(text)
    [row] = [r for r in extractor.extract(source).rows if r["kind"] in ("class", "function")]
    assert span_text(source, row) == expected


def test_spans_survive_whitespace_libcst_does_not_reproduce() -> None:
    # libcst 1.9.0 drops the space in `except (A, B) :` when it regenerates the code.
    source = _source("try:\n    pass\nexcept (A, B) :\n    f()\n")
    result = cst_extractor.extract(source)
    [call] = [r for r in result.rows if r["kind"] == "call"]
    assert result.warnings == []
    assert span_text(source, call) == "f()"


# -- cst-only rows and details ------------------------------------------------------------------


def test_each_comment_is_a_row_with_its_text_span_and_scope() -> None:
    source = _source("# top\ndef f():  # on def\n    x = 1  # 注释\n")
    rows = [r for r in cst_extractor.extract(source).rows if r["kind"] == "comment"]
    assert [(r["expr"], span_text(source, r), r["scope_qualname"]) for r in rows] == [
        ("# top", "# top", ""),
        ("# on def", "# on def", "f"),
        ("# 注释", "# 注释", "f"),
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("__all__ = ['a', 'b']\n", ["a", "b"]),
        ("__all__ = ('a',)\n__all__ += ['b']\n", ["a", "b"]),
        ("__all__ = names\n", None),
        ("x = 1\n", None),
    ],
)
def test_module_detail_lists_literal_all_names(text: str, expected: list[str] | None) -> None:
    assert detail_of(_one(text, "module"))["all"] == expected


@pytest.mark.parametrize(
    ("text", "flags"),
    [
        ("import a\n", (False, False, False, False)),
        ("try:\n    import a\nexcept E:\n    pass\n", (True, False, False, True)),
        ("try:\n    pass\nexcept E:\n    import a\n", (True, False, False, True)),
        ("if TYPE_CHECKING:\n    import a\n", (False, True, False, True)),
        ("if typing.TYPE_CHECKING:\n    pass\nelse:\n    import a\n", (False, False, False, True)),
        ("def f():\n    import a\n", (False, False, True, True)),
        ("if x:\n    import a\n", (False, False, False, True)),
    ],
)
def test_import_flags(text: str, flags: tuple[bool, bool, bool, bool]) -> None:
    detail = detail_of(_one(text, "import"))
    keys = ("in_try", "in_type_checking", "in_function", "conditional")
    assert tuple(detail[k] for k in keys) == flags


def test_parameters_have_kind_index_default_and_annotation() -> None:
    rows = _rows("def f(a, /, b: x.T = 1, *c, d, e=2, **f): pass\n", "parameter")
    assert [(r["name"], r["expr"], detail_of(r)) for r in rows] == [
        ("a", None, {"kind": "posonly", "index": 0, "has_default": False}),
        ("b", "x.T", {"kind": "positional", "index": 1, "has_default": True}),
        ("c", None, {"kind": "vararg", "index": 2, "has_default": False}),
        ("d", None, {"kind": "kwonly", "index": 3, "has_default": False}),
        ("e", None, {"kind": "kwonly", "index": 4, "has_default": True}),
        ("f", None, {"kind": "kwarg", "index": 5, "has_default": False}),
    ]


@pytest.mark.parametrize(
    ("text", "name", "expr", "counts"),
    [
        ("super().save(1, k=2)\n", "save", "super().save", (1, 1)),
        ("a.b().c(*x, **y)\n", None, None, (1, 1)),
        ("True()\n", None, None, (0, 0)),
        ("(f)(x for x in y)\n", "f", "f", (1, 0)),
    ],
)
def test_call_name_expr_and_argument_counts(
    text: str, name: str | None, expr: str | None, counts: tuple[int, int]
) -> None:
    row = _rows(text, "call")[0]
    assert (row["name"], row["expr"]) == (name, expr)
    assert (detail_of(row)["nargs"], detail_of(row)["nkeywords"]) == counts


def test_dynamic_import_is_an_import_row_on_the_call_span() -> None:
    source = _source("m = importlib.import_module('pkg.mod')\n")
    rows = cst_extractor.extract(source).rows
    [call] = [r for r in rows if r["kind"] == "call"]
    [imp] = [r for r in rows if r["kind"] == "import"]
    assert (imp["expr"], detail_of(imp)["dynamic"], detail_of(imp)["level"]) == (
        "pkg.mod",
        "importlib",
        0,
    )
    assert (imp["bstart"], imp["bend"]) == (call["bstart"], call["bend"])


# -- failures -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("def f(:\n    pass\n", "EXTRACT_SYNTAX_ERROR"),
        ('print "python 2"\n', "EXTRACT_SYNTAX_ERROR"),
        (
            "".join(" " * i + "if x:\n" for i in range(120)) + " " * 120 + "pass\n",
            "EXTRACT_RECURSION_LIMIT",
        ),
    ],
    ids=["syntax", "python2", "deep_indentation"],
)
def test_unparsable_files_give_one_warning_and_no_rows(text: str, code: str) -> None:
    result = cst_extractor.extract(_source(text))
    assert result.rows == []
    assert [w.code for w in result.warnings] == [code]
    assert result.warnings[0].line is not None


def test_a_recursion_error_of_the_parser_is_a_recursion_limit_warning(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def too_deep(text: str) -> libcst.Module:
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr(libcst, "parse_module", too_deep)
    result = cst_extractor.extract(_source("x = 1\n"))
    assert (result.rows, [w.code for w in result.warnings]) == ([], ["EXTRACT_RECURSION_LIMIT"])


def test_a_long_flat_expression_is_extracted_and_the_recursion_limit_restored() -> None:
    # libcst's codegen recurses twice per `+`: 1200 terms exceed the default limit of 1000.
    limit = sys.getrecursionlimit()
    result = cst_extractor.extract(_source("x = " + " + ".join(["f()"] * 1200) + "\n"))
    assert result.warnings == []
    assert sum(r["kind"] == "call" for r in result.rows) == 1200
    assert sys.getrecursionlimit() == limit


def test_failures_other_than_syntax_errors_propagate(monkeypatch: pytest.MonkeyPatch) -> None:
    # The worker maps its own timeout exception and crashes; they must not look like syntax.
    class Interrupted(Exception):
        pass

    def interrupted(text: str) -> libcst.Module:
        raise Interrupted

    monkeypatch.setattr(libcst, "parse_module", interrupted)
    with pytest.raises(Interrupted):
        cst_extractor.extract(_source("x = 1\n"))


def _cst(text: str) -> FileResult:
    from backends.extract.source import SourceFile

    return cst_extractor.extract(SourceFile(path="m.py", module="m", is_package=False, text=text))


def test_a_statement_of_too_many_operators_is_refused_up_front() -> None:
    # libcst's parser is super-linear in a chain's length: 100,000 terms ran for an hour.
    long_chain = "x = " + " + ".join(["a"] * 100_000) + "\n"
    result = _cst(long_chain)
    assert result.rows == []
    [warning] = result.warnings
    assert warning.code == "EXTRACT_NESTING_TOO_DEEP" and "operators" in warning.message
    assert cst_extractor.operator_chain_exceeds("x = " + " and ".join(["a"] * 2002) + "\n")


def test_many_operators_across_statements_are_fine() -> None:
    # The vacuous side: as many operators in total, but a few per statement.
    text = "".join(f"x{i} = a + b * c - d\n" for i in range(2_000))
    assert not cst_extractor.operator_chain_exceeds(text)
    result = _cst(text)
    assert result.warnings == [] and result.rows
