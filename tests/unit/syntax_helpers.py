"""Helpers shared by the specifications of the per-file extractors (ast, cst, tree_sitter,
bytecode, symtable): one extractor run on a sample text, the contract-shape checks every
table must pass, and the compiler as the oracle of qualnames (compiled, never executed)."""

from __future__ import annotations

import json
import textwrap
from types import CodeType, ModuleType
from typing import Any

import pyarrow as pa

from backends.extract.result import FileResult
from backends.extract.source import SourceFile

# Nested classes, functions, lambdas and comprehensions, with the two qualname rules a plain
# nesting walk misses (comprehension levels, `global` definitions). Samples append to it.
NESTED_SCOPES = """\
class Outer:
    class Inner:
        def method(self):
            def helper():
                return [lambda: x for x in range(2)]
            return helper
    global promoted
    def promoted(self):
        return (lambda: (yield))

def outer():
    global g
    def g():
        pass
    class Local:
        key = sorted([], key=lambda v: v)
        def m(self):
            return {s: (lambda: s) for s in 'ab'}
    return [lambda: 0 for _ in [lambda: 1]]

async def coro():
    async def inner():
"""

# A decorated class with an annotated method holding a call, a lambda and a default.
DECORATED_CLASS = """\
@decorator
class C(Base):
    def m(self, x: int = 1) -> None:
        print(os.path.join(x))
        return lambda y: y
"""


class ExtractorCase:
    """One extractor under test; every sample is a file at ``path`` of module ``module``.

    ``clean``: rows are only read from results without warnings (the sample must parse).
    """

    def __init__(self, extractor: ModuleType, *, path: str, module: str, clean: bool = True):
        self.extractor = extractor
        self.path = path
        self.module = module
        self.clean = clean

    def source(self, text: str) -> SourceFile:
        """The sample ``text`` as the extractor sees it (not dedented)."""
        return SourceFile(path=self.path, module=self.module, is_package=False, text=text)

    def extract(self, text: str) -> FileResult:
        """The result of the extractor on the dedented ``text``."""
        result: FileResult = self.extractor.extract(self.source(textwrap.dedent(text)))
        return result

    def rows(self, text: str, kind: str | None = None) -> list[dict[str, Any]]:
        """The rows (of one ``kind``, or all) of the dedented ``text``."""
        result = self.extract(text)
        if self.clean:
            assert result.warnings == []
        return [r for r in result.rows if kind is None or r["kind"] == kind]

    def one(self, text: str, kind: str, **match: Any) -> dict[str, Any]:
        """The one row of ``kind`` whose columns have the values in ``match``."""
        rows = [r for r in self.rows(text, kind) if all(r[k] == v for k, v in match.items())]
        assert len(rows) == 1, rows
        return rows[0]


def detail_of(row: dict[str, Any]) -> Any:
    """The decoded ``detail`` column of a row."""
    return json.loads(row["detail"])


def span_text(source: SourceFile, row: dict[str, Any]) -> str:
    """The source text under the span of a row."""
    return source.data[row["bstart"] : row["bend"]].decode("utf-8")


def code_objects(text: str, filename: str) -> list[CodeType]:
    """Every code object of ``text``, compiled (never executed), the module's first."""
    found: list[CodeType] = []
    stack = [compile(text, filename, "exec", dont_inherit=True)]
    while stack:
        code = stack.pop()
        found.append(code)
        stack.extend(c for c in code.co_consts if isinstance(c, CodeType))
    return found


def assert_rows_form_a_scope_tree(rows: list[dict[str, Any]]) -> None:
    """Ordinals are row indexes; the first row is the module, without parent; every other
    row's parent is an earlier module, class, function or lambda row (§5.2)."""
    assert [r["ordinal"] for r in rows] == list(range(len(rows)))
    assert rows[0]["kind"] == "module"
    assert rows[0]["parent_ordinal"] is None
    definitions = {"module", "class", "function", "lambda"}
    for row in rows[1:]:
        assert row["parent_ordinal"] < row["ordinal"]
        assert rows[row["parent_ordinal"]]["kind"] in definitions


def assert_contract_columns(rows: list[dict[str, Any]], schema: pa.Schema) -> None:
    """Every row has exactly the columns of the contract table, except ``path``."""
    expected = set(schema.names) - {"path"}
    assert all(set(row) == expected for row in rows)


def assert_contract_types(rows: list[dict[str, Any]], schema: pa.Schema, path: str) -> None:
    """The rows, with ``path`` added, convert to the contract's Arrow schema, and no
    non-nullable column holds a null."""
    table = pa.Table.from_pylist([{"path": path, **row} for row in rows], schema=schema)
    for field in schema:
        if not field.nullable:
            assert table.column(field.name).null_count == 0, field.name
