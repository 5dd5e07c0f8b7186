"""Stage-0 ``symtable`` extractor: scopes and symbol flags (CONTRACT.md §5.4).

Tables are walked iteratively, parents before children, children in the order CPython
created them; a table's symbols follow its ``scope`` row, sorted by name. Scope qualnames
are built the way CPython's compiler builds ``__qualname__`` (compile.c,
``compiler_set_qualname``), so they equal ``co_qualname`` and the ``ast`` extractor's
qualnames.
"""

from __future__ import annotations

import symtable
from typing import Any, Final

from backends.extract.registry import PER_FILE_VERSIONS
from backends.extract.result import FileResult
from backends.extract.source import SourceFile
from backends.extract.syntax_common import NULL_SPAN, guarded

NAME: Final = "symtable"
VERSION: Final = PER_FILE_VERSIONS["symtable"]

# Comprehension tables are function tables named after the comprehension (3.11). A def may
# carry the same name, but only a comprehension has the implicit parameter ".0".
_COMPREHENSIONS: Final = frozenset({"listcomp", "setcomp", "dictcomp", "genexpr"})

# Contract flag name -> Symbol predicate (§5.4).
_FLAGS: Final = (
    ("annotated", "is_annotated"),
    ("assigned", "is_assigned"),
    ("declared_global", "is_declared_global"),
    ("free", "is_free"),
    ("global", "is_global"),
    ("imported", "is_imported"),
    ("local", "is_local"),
    ("namespace", "is_namespace"),
    ("nonlocal", "is_nonlocal"),
    ("parameter", "is_parameter"),
    ("referenced", "is_referenced"),
)


def symbol_flags(symbol: symtable.Symbol) -> list[str]:
    """The sorted contract flags of one symbol."""
    return [flag for flag, method in _FLAGS if getattr(symbol, method)()]


def _is_comprehension(table: symtable.SymbolTable) -> bool:
    return (
        table.get_type() == "function"
        and table.get_name() in _COMPREHENSIONS
        and ".0" in table.get_identifiers()
    )


def _display_name(table: symtable.SymbolTable) -> str:
    name = table.get_name()
    if name == "lambda" or _is_comprehension(table):
        return f"<{name}>"
    return name


def _mangle(private: str | None, name: str) -> str:
    """CPython's private name mangling (``__x`` in class ``C`` is ``_C__x``)."""
    if private is None or not name.startswith("__") or name.endswith("__") or "." in name:
        return name
    stripped = private.lstrip("_")
    return f"_{stripped}{name}" if stripped else name


def _is_forced_global(
    parent: symtable.SymbolTable, child: symtable.SymbolTable, private: str | None
) -> bool:
    """A def/class declared ``global`` in its enclosing def/class keeps its bare name."""
    if child.get_name() == "lambda" or _is_comprehension(child):
        return False
    if parent.get_type() not in ("function", "class"):
        return False
    try:
        return parent.lookup(_mangle(private, child.get_name())).is_declared_global()
    except KeyError:
        return False


def _child_qualname(
    parent: symtable.SymbolTable,
    parent_qualname: str,
    child: symtable.SymbolTable,
    private: str | None,
) -> str:
    name = _display_name(child)
    if parent.get_type() == "module" or _is_forced_global(parent, child, private):
        return name
    if parent.get_type() == "function" and not _is_comprehension(parent):
        # Functions and lambdas add "<locals>"; classes and comprehensions do not.
        return f"{parent_qualname}.<locals>.{name}"
    return f"{parent_qualname}.{name}"


def _rows(top: symtable.SymbolTable) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    # (table, its qualname, the class name that mangles private names inside it)
    stack: list[tuple[symtable.SymbolTable, str, str | None]] = [(top, "", None)]
    while stack:
        table, qualname, private = stack.pop()
        scope_type = str(table.get_type())
        rows.append(
            {
                "ordinal": len(rows),
                "kind": "scope",
                "scope_qualname": qualname,
                "scope_type": scope_type,
                "name": table.get_name(),
                "flags": None,
                "detail": None,
                **NULL_SPAN,
                "line": table.get_lineno(),
            }
        )
        for symbol in sorted(table.get_symbols(), key=lambda s: s.get_name()):
            rows.append(
                {
                    "ordinal": len(rows),
                    "kind": "symbol",
                    "scope_qualname": qualname,
                    "scope_type": scope_type,
                    "name": symbol.get_name(),
                    "flags": symbol_flags(symbol),
                    "detail": None,
                    **NULL_SPAN,
                }
            )
        stack.extend(
            (
                child,
                _child_qualname(table, qualname, child, private),
                child.get_name() if child.get_type() == "class" else private,
            )
            for child in reversed(table.get_children())
        )
    return rows


def extract(source: SourceFile) -> FileResult:
    """The ``symtable`` rows of one file, or a syntax/recursion warning and no rows."""
    top, warning = guarded(source, lambda: symtable.symtable(source.text, source.path, "exec"))
    if warning is not None:
        return FileResult(rows=[], warnings=[warning])
    return FileResult(rows=_rows(top))
