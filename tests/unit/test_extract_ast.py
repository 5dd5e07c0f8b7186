"""Specification of the ``ast`` extractor (CONTRACT.md §3, §5.2)."""

from __future__ import annotations

import warnings
from typing import Any

import pytest

from backends.contract.schemas import AST
from backends.extract import ast_extractor
from tests.unit.syntax_helpers import (
    DECORATED_CLASS,
    NESTED_SCOPES,
    ExtractorCase,
    assert_contract_columns,
    assert_contract_types,
    assert_rows_form_a_scope_tree,
    code_objects,
    detail_of,
    span_text,
)

_CASE = ExtractorCase(ast_extractor, path="pkg/mod.py", module="pkg.mod")
_source, _extract, _rows, _one = _CASE.source, _CASE.extract, _CASE.rows, _CASE.one

SAMPLE = (
    "'''Module doc.'''\nimport os\nfrom typing import TYPE_CHECKING\n\n"
    + DECORATED_CLASS
    + "\ndef f(*args, **kw):\n    del args\n    return [z for z in kw]\n"
)


# -- the table shape ----------------------------------------------------------------------------


def test_rows_have_exactly_the_contract_columns_except_path() -> None:
    assert_contract_columns(_rows(SAMPLE), AST)


def test_rows_convert_to_the_contract_arrow_schema() -> None:
    assert_contract_types(_rows(SAMPLE), AST, "pkg/mod.py")


def test_ordinals_are_row_indexes_and_parents_are_earlier_definitions() -> None:
    assert_rows_form_a_scope_tree(_rows(SAMPLE))


def test_extracting_twice_gives_identical_rows() -> None:
    assert _extract(SAMPLE) == _extract(SAMPLE)


# -- qualnames and scopes -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("def f():\n    def g():\n        pass\n", ["f", "f.<locals>.g"]),
        ("class C:\n    def m(self):\n        pass\n", ["C", "C.m"]),
        (
            "def f():\n    class C:\n        def m(self): pass\n",
            ["f", "f.<locals>.C", "f.<locals>.C.m"],
        ),
        ("class A:\n    class B:\n        pass\n", ["A", "A.B"]),
        ("g = lambda: 0\n", ["<lambda>"]),
        ("def f():\n    return lambda: 0\n", ["f", "f.<locals>.<lambda>"]),
        ("class C:\n    k = lambda self: 0\n", ["C", "C.<lambda>"]),
        ("x = lambda: lambda: 0\n", ["<lambda>", "<lambda>.<locals>.<lambda>"]),
        ("x = [lambda: i for i in range(3)]\n", ["<listcomp>.<lambda>"]),
        (
            "def f():\n    return {k: lambda: k for k in 'ab'}\n",
            ["f", "f.<locals>.<dictcomp>.<lambda>"],
        ),
        ("x = [0 for i in [lambda: 1]]\n", ["<lambda>"]),
        ("def f():\n    global g\n    def g(): pass\n", ["f", "g"]),
        ("class C:\n    global D\n    class D: pass\n", ["C", "D"]),
    ],
)
def test_definition_qualnames_follow_cpython(text: str, expected: list[str]) -> None:
    kinds = {"class", "function", "lambda"}
    assert [r["qualname"] for r in _rows(text) if r["kind"] in kinds] == expected


TRICKY = "import functools\n\n" + NESTED_SCOPES + "        return lambda: 0\n"


def test_definition_qualnames_equal_the_compiled_co_qualnames() -> None:
    compiled = [code.co_qualname for code in code_objects(TRICKY, "tricky.py")]
    expected = sorted(q for q in compiled if q != "<module>" and not q.endswith("comp>"))
    rows = _rows(TRICKY)
    found = sorted(r["qualname"] for r in rows if r["kind"] in {"class", "function", "lambda"})
    assert found == expected


def test_rows_inside_a_method_have_its_scope_and_parent() -> None:
    rows = _rows(SAMPLE)
    method = next(r for r in rows if r["kind"] == "function" and r["name"] == "m")
    call = next(r for r in rows if r["kind"] == "call" and r["name"] == "print")
    assert (call["scope_qualname"], call["parent_ordinal"]) == ("C.m", method["ordinal"])


@pytest.mark.parametrize(
    ("text", "name", "scope"),
    [
        ("class C:\n    @deco\n    def m(self): pass\n", "deco", "C"),
        ("def f(x=default):\n    pass\n", "default", ""),
        ("def f(x: Ann) -> Ret:\n    pass\n", "Ann", ""),
        ("def f(x: Ann) -> Ret:\n    pass\n", "Ret", ""),
        ("def f():\n    class C(Base): pass\n", "Base", "f"),
        ("def f(x):\n    return x\n", "x", "f"),
        ("x = [v for v in items]\n", "items", ""),
        ("g = lambda a: a\n", "a", "<lambda>"),
    ],
)
def test_names_belong_to_the_scope_that_evaluates_them(text: str, name: str, scope: str) -> None:
    assert _one(text, "name", name=name)["scope_qualname"] == scope


# -- definition facts ---------------------------------------------------------------------------


def test_class_detail_has_bases_keywords_decorators_and_docstring() -> None:
    text = """\
    @app.register("x")
    @dataclass
    class C(Generic[T], mod.Base, make()(), metaclass=abc.ABCMeta):
        '''Doc.'''
    """
    assert detail_of(_one(text, "class", name="C")) == {
        "bases": ["Generic", "mod.Base", None],
        "keywords": {"metaclass": "abc.ABCMeta"},
        "decorators": ["app.register", "dataclass"],
        "docstring": True,
    }


@pytest.mark.parametrize(
    ("text", "name", "expected"),
    [
        (
            "async def f():\n    pass\n",
            "f",
            {"is_async": True, "decorators": [], "is_method": False, "docstring": False},
        ),
        (
            "class C:\n    @property\n    def m(self):\n        'doc'\n",
            "m",
            {"is_async": False, "decorators": ["property"], "is_method": True, "docstring": True},
        ),
        (
            "class C:\n    if X:\n        def m(self): pass\n",
            "m",
            {"is_async": False, "decorators": [], "is_method": True, "docstring": False},
        ),
        (
            "class C:\n    def m(self):\n        def inner(): pass\n",
            "inner",
            {"is_async": False, "decorators": [], "is_method": False, "docstring": False},
        ),
    ],
)
def test_function_detail(text: str, name: str, expected: dict[str, Any]) -> None:
    assert detail_of(_one(text, "function", name=name)) == expected


def test_parameters_have_kind_index_and_default() -> None:
    rows = _rows("def f(a, /, b=1, *args, c, d=2, **kw):\n    pass\n", "parameter")
    found = [(r["name"], detail_of(r)) for r in rows]
    assert found == [
        ("a", {"kind": "posonly", "index": 0, "has_default": False}),
        ("b", {"kind": "positional", "index": 1, "has_default": True}),
        ("args", {"kind": "vararg", "index": 2, "has_default": False}),
        ("c", {"kind": "kwonly", "index": 3, "has_default": False}),
        ("d", {"kind": "kwonly", "index": 4, "has_default": True}),
        ("kw", {"kind": "kwarg", "index": 5, "has_default": False}),
    ]


@pytest.mark.parametrize(
    ("annotation", "expr"),
    [("int", "int"), ("typing.Any", "typing.Any"), ("list[int]", None), ("'Fwd'", None)],
)
def test_parameter_expr_is_its_annotation_text(annotation: str, expr: str | None) -> None:
    assert _one(f"def f(x: {annotation}): pass\n", "parameter")["expr"] == expr


def test_parameter_span_is_the_name_only() -> None:
    source = _source("def f(self, *, value: int = 3, **extra): pass\n")
    rows = [r for r in ast_extractor.extract(source).rows if r["kind"] == "parameter"]
    assert [span_text(source, r) for r in rows] == ["self", "value", "extra"]


@pytest.mark.parametrize("text", ["def f(ﬁx): pass\n", "def f(ﬁx: int): pass\n"])
def test_parameter_span_covers_a_name_as_written_when_not_normalized(text: str) -> None:
    source = _source(text)
    row = next(r for r in ast_extractor.extract(source).rows if r["kind"] == "parameter")
    assert (row["name"], span_text(source, row)) == ("fix", "ﬁx")


def test_lambda_has_name_and_whole_expression_span() -> None:
    source = _source("key = lambda item: item[0]  # comment\n")
    row = next(r for r in ast_extractor.extract(source).rows if r["kind"] == "lambda")
    assert (row["name"], span_text(source, row)) == ("<lambda>", "lambda item: item[0]")


def test_definition_span_starts_at_def_and_ends_at_the_last_statement() -> None:
    text = "@deco\nasync def f():\n    x = 1\n    return x  # trailing\n\n# after\n"
    source = _source(text)
    row = next(r for r in ast_extractor.extract(source).rows if r["kind"] == "function")
    assert span_text(source, row) == "async def f():\n    x = 1\n    return x"
    assert (row["line"], row["col"], row["end_line"]) == (2, 0, 4)


def test_class_span_ends_at_the_last_statement_of_its_body() -> None:
    source = _source("class C:\n    a = 1\n    def m(self):\n        pass\n    # end\n")
    row = next(r for r in ast_extractor.extract(source).rows if r["kind"] == "class")
    assert span_text(source, row).endswith("        pass")


# -- calls, names, attributes --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expr", "name"),
    [
        ("os.path.join(a, b)\n", "os.path.join", "join"),
        ("print()\n", "print", "print"),
        ("self.helper(x=1)\n", "self.helper", "helper"),
        ("super().save()\n", "super().save", "save"),
        ("make()()\n", None, None),
        ("items[0].run()\n", None, None),
    ],
)
def test_call_expr_is_the_callee_chain(text: str, expr: str | None, name: str | None) -> None:
    first = _rows(text, "call")[0]
    assert (first["expr"], first["name"]) == (expr, name)


def test_call_detail_counts_positional_and_keyword_arguments() -> None:
    assert detail_of(_one("f(1, *rest, k=2, **kw)\n", "call")) == {"nargs": 2, "nkeywords": 2}


@pytest.mark.parametrize(
    ("text", "kind", "name", "ctx"),
    [
        ("x = 1\n", "name", "x", "store"),
        ("print(x)\n", "name", "x", "load"),
        ("del x\n", "name", "x", "del"),
        ("a.b = 1\n", "attribute", "b", "store"),
        ("del a.b\n", "attribute", "b", "del"),
        ("a.b.c\n", "attribute", "c", "load"),
    ],
)
def test_names_and_attributes_carry_their_context(
    text: str, kind: str, name: str, ctx: str
) -> None:
    assert _one(text, kind, name=name)["ctx"] == ctx


def test_attribute_expr_is_the_whole_dotted_expression() -> None:
    source = _source("value = os.path.sep\n")
    rows = [r for r in ast_extractor.extract(source).rows if r["kind"] == "attribute"]
    assert [(r["expr"], span_text(source, r)) for r in rows] == [
        ("os.path.sep", "os.path.sep"),
        ("os.path", "os.path"),
    ]


@pytest.mark.parametrize(
    ("text", "kind", "statement"),
    [
        ("def f():\n    global a, b\n", "global", "global a, b"),
        (
            "def f():\n    x = y = 0\n    def g():\n        nonlocal x, y\n",
            "nonlocal",
            "nonlocal x, y",
        ),
    ],
)
def test_declarations_give_one_row_per_name_spanning_the_statement(
    text: str, kind: str, statement: str
) -> None:
    source = _source(text)
    rows = [r for r in ast_extractor.extract(source).rows if r["kind"] == kind]
    assert [r["name"] for r in rows] == statement.split(" ", 1)[1].split(", ")
    assert {span_text(source, r) for r in rows} == {statement}


# -- imports ------------------------------------------------------------------------------------


def test_plain_and_from_imports_give_one_row_per_alias() -> None:
    source = _source("import os.path as osp, sys\nfrom ..pkg import (a, b as c)\nfrom . import *\n")
    rows = [r for r in ast_extractor.extract(source).rows if r["kind"] == "import"]
    found = [
        (r["name"], r["expr"], detail_of(r)["level"], detail_of(r)["asname"], span_text(source, r))
        for r in rows
    ]
    assert found == [
        (None, "os.path", 0, "osp", "os.path as osp"),
        (None, "sys", 0, None, "sys"),
        ("a", "pkg", 2, None, "a"),
        ("b", "pkg", 2, "c", "b as c"),
        ("*", None, 1, None, "*"),
    ]


FLAGS = ("in_try", "in_type_checking", "in_function", "conditional")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("import json\n", (False, False, False, False)),
        (
            "try:\n    import json\nexcept ImportError:\n    json = None\n",
            (True, False, False, True),
        ),
        (
            "try:\n    import ujson\nexcept ImportError:\n    import json\n",
            (True, False, False, True),
        ),
        (
            "try:\n    pass\nexcept E:\n    pass\nelse:\n    import json\n",
            (False, False, False, False),
        ),
        ("if TYPE_CHECKING:\n    import json\n", (False, True, False, True)),
        ("import typing\nif typing.TYPE_CHECKING:\n    import json\n", (False, True, False, True)),
        ("if TYPE_CHECKING:\n    pass\nelse:\n    import json\n", (False, False, False, True)),
        ("def f():\n    import json\n", (False, False, True, True)),
        ("if sys.version_info >= (3, 11):\n    import json\n", (False, False, False, True)),
    ],
)
def test_import_flags(text: str, expected: tuple[bool, ...]) -> None:
    detail = detail_of(_one(text, "import", expr="json"))
    assert tuple(detail[flag] for flag in FLAGS) == expected


@pytest.mark.parametrize(
    ("call", "module", "dynamic"),
    [
        ('importlib.import_module("plugins.csv")', "plugins.csv", "importlib"),
        ('__import__("plugins.csv")', "plugins.csv", "__import__"),
        ('importlib.import_module(".sub", package="pkg")', ".sub", "importlib"),
    ],
)
def test_dynamic_import_with_a_literal_also_gives_an_import_row(
    call: str, module: str, dynamic: str
) -> None:
    source = _source(f"import importlib\n\ndef load():\n    return {call}\n")
    row = next(
        r
        for r in ast_extractor.extract(source).rows
        if r["kind"] == "import" and r["expr"] == module
    )
    detail = detail_of(row)
    assert (row["name"], detail["dynamic"], detail["level"], detail["in_function"]) == (
        None,
        dynamic,
        0,
        True,
    )
    assert span_text(source, row) == call


def test_dynamic_import_of_a_computed_name_gives_no_import_row() -> None:
    rows = _rows("import importlib\nimportlib.import_module(name)\n", "import")
    assert [r["expr"] for r in rows] == ["importlib"]


# -- the module row -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("__all__ = ['a', 'b']\n", ["a", "b"]),
        ("__all__ = ('a',)\n", ["a"]),
        ("__all__: list[str] = ['a']\n", ["a"]),
        ("__all__ = ['a']\n__all__ += ['b']\n__all__ += ('c',)\n", ["a", "b", "c"]),
        ("__all__ = ['a']\n__all__ += other.__all__\n", None),
        ("__all__ = names()\n", None),
        ("x = 1\n", None),
        ("if X:\n    __all__ = ['a']\n", None),
    ],
)
def test_module_all_lists_literal_names(text: str, expected: list[str] | None) -> None:
    assert detail_of(_rows(text, "module")[0])["all"] == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("'''Doc.'''\nx = 1\n", True),
        ("x = 1\n'''Not doc.'''\n", False),
        ("", False),
        ("b'x'\n", False),
    ],
)
def test_module_docstring_flag(text: str, expected: bool) -> None:
    assert detail_of(_rows(text, "module")[0])["docstring"] is expected


def test_module_row_spans_the_whole_file() -> None:
    source = _source("x = '😀'\r\n")
    row = ast_extractor.extract(source).rows[0]
    assert (row["kind"], row["bstart"], row["bend"], row["qualname"]) == (
        "module",
        0,
        len(source.data),
        "",
    )


# -- positions in non-ASCII, CRLF text ----------------------------------------------------------

UNICODE = 'banner = "😀 — 你好"\r\n\r\ndef 函数(参数): return print("😀", 参数)\r\n'


@pytest.mark.parametrize(
    ("kind", "name", "text"),
    [
        ("function", "函数", 'def 函数(参数): return print("😀", 参数)'),
        ("parameter", "参数", "参数"),
        ("call", "print", 'print("😀", 参数)'),
        ("name", "banner", "banner"),
    ],
)
def test_spans_are_utf8_byte_offsets_in_crlf_unicode_text(kind: str, name: str, text: str) -> None:
    source = _source(UNICODE)
    row = next(
        r for r in ast_extractor.extract(source).rows if r["kind"] == kind and r["name"] == name
    )
    assert span_text(source, row) == text


def test_span_line_and_col_are_one_based_line_and_byte_column() -> None:
    source = _source(UNICODE)
    row = next(r for r in ast_extractor.extract(source).rows if r["kind"] == "call")
    assert (row["line"], row["col"]) == (3, len("def 函数(参数): return ".encode()))


# -- failures -----------------------------------------------------------------------------------


def test_syntax_error_gives_a_positioned_warning_and_no_rows() -> None:
    result = ast_extractor.extract(_source("x = '😀' $\n"))
    assert result.rows == []
    [warning] = result.warnings
    assert warning.code == "EXTRACT_SYNTAX_ERROR"
    assert (warning.line, warning.col) == (1, len("x = '😀' ".encode()))


@pytest.mark.parametrize("text", ["x = 1\0\n", "def f(:\n", "  x = 1\n", "if x:\npass\n"])
def test_unparseable_text_gives_a_syntax_warning(text: str) -> None:
    result = ast_extractor.extract(_source(text))
    assert (result.rows, [w.code for w in result.warnings]) == ([], ["EXTRACT_SYNTAX_ERROR"])


@pytest.mark.parametrize(
    "text",
    [
        "(" * 5000 + ")" * 5000,
        "x = " + "[" * 300 + "]" * 300,
        "-" * 100_000 + "1",
        "+".join(["1"] * 100_000),
    ],
    ids=["parens-5000", "lists-300", "unary-100000", "binop-100000"],
)
def test_too_deep_nesting_gives_a_recursion_warning(text: str) -> None:
    result = ast_extractor.extract(_source(text))
    assert (result.rows, [w.code for w in result.warnings]) == ([], ["EXTRACT_RECURSION_LIMIT"])


def test_a_tree_deeper_than_the_python_stack_is_walked() -> None:
    # ast.parse accepts this chain; a recursive walker would exceed the recursion limit.
    rows = _rows("a" + ".b" * 2500 + "\n")
    assert [r["kind"] for r in rows].count("attribute") == 2500


def test_compiler_warnings_do_not_fail_the_file_even_when_warnings_are_errors() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = ast_extractor.extract(_source("pattern = '\\d'\n"))
    assert (result.warnings, result.rows[1]["name"]) == ([], "pattern")
