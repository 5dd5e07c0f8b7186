"""Facts the ``cst`` extractor reads off libcst nodes: *expr text*, string literals, docstrings,
``__all__``, ``global`` declarations (CONTRACT.md §5.2). Pure functions of the tree, no
positions; identifiers are NFKC-normalized as the interpreter sees them."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, Final

import libcst as cst

from backends.extract.syntax_common import literal_all
from backends.extract.syntax_scope import ident

_CONSTANTS: Final = frozenset({"True", "False", "None"})  # Names to libcst, constants to ast


def expr_text(node: cst.CSTNode | None) -> str | None:
    """§5.2 *expr text*: a dotted chain of names (optionally from ``super()``), else None."""
    parts: list[str] = []
    while True:
        if isinstance(node, cst.Attribute):
            parts.append(ident(node.attr.value))
            node = node.value
        elif isinstance(node, cst.Name) and node.value not in _CONSTANTS:
            parts.append(ident(node.value))
            return ".".join(reversed(parts))
        elif (
            parts
            and isinstance(node, cst.Call)
            and isinstance(node.func, cst.Name)
            and node.func.value == "super"
            and not node.args
        ):
            parts.append("super()")
            return ".".join(reversed(parts))
        else:
            return None


def base_text(node: cst.BaseExpression) -> str | None:
    """A base class: ``Generic[T]`` is written ``Generic``."""
    return expr_text(node.value if isinstance(node, cst.Subscript) else node)


def decorator_text(node: cst.BaseExpression) -> str | None:
    """A decorator: ``@app.route("/")`` is written ``app.route``."""
    return base_text(node.func if isinstance(node, cst.Call) else node)


def string_value(node: cst.BaseExpression) -> str | None:
    """The value of a plain ``str`` literal (implicit concatenation allowed), else None."""
    if isinstance(node, cst.ConcatenatedString):
        left, right = string_value(node.left), string_value(node.right)
        return None if left is None or right is None else left + right
    if not isinstance(node, cst.SimpleString) or "b" in node.prefix.lower():
        return None
    try:
        value = node.evaluated_value
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        return None
    return value if isinstance(value, str) else None


def has_docstring(body: Sequence[cst.CSTNode]) -> bool:
    """Whether a module, class or function body starts with a string literal."""
    first = body[0] if body else None
    if isinstance(first, cst.SimpleStatementLine):
        first = first.body[0] if first.body else None
    return isinstance(first, cst.Expr) and string_value(first.value) is not None


def _string_list(node: cst.BaseExpression | None) -> list[str] | None:
    """The strings of a list/tuple display of string literals, else None."""
    if not isinstance(node, cst.List | cst.Tuple):
        return None
    values = [string_value(e.value) if isinstance(e, cst.Element) else None for e in node.elements]
    strings = [v for v in values if v is not None]
    return strings if len(strings) == len(values) else None


def _is_all(node: cst.BaseExpression) -> bool:
    return isinstance(node, cst.Name) and node.value == "__all__"


def _all_value(stmt: cst.BaseSmallStatement) -> cst.BaseExpression | None:
    """The value bound to ``__all__`` by ``__all__ = ...`` or ``__all__: T = ...``."""
    if isinstance(stmt, cst.Assign) and any(_is_all(t.target) for t in stmt.targets):
        return stmt.value
    if isinstance(stmt, cst.AnnAssign) and _is_all(stmt.target):
        return stmt.value
    return None


def _all_bindings(module: cst.Module) -> Iterator[tuple[bool, list[str] | None]]:
    for line in module.body:
        for stmt in line.body if isinstance(line, cst.SimpleStatementLine) else ():
            value = _all_value(stmt)
            if value is not None:
                yield False, _string_list(value)
            elif (
                isinstance(stmt, cst.AugAssign)
                and _is_all(stmt.target)
                and isinstance(stmt.operator, cst.AddAssign)
            ):
                yield True, _string_list(stmt.value)


def module_all(module: cst.Module) -> list[str] | None:
    """Literal ``__all__`` of the module body; None when absent or not a literal."""
    return literal_all(_all_bindings(module))


# Where `global` statements can hide in a def/class body without opening a new scope.
_STATEMENT_LISTS: Final = (cst.IndentedBlock, cst.SimpleStatementSuite, cst.SimpleStatementLine)
_SUITE_HOLDERS: Final = (
    cst.Else,
    cst.Finally,
    cst.ExceptHandler,
    cst.ExceptStarHandler,
    cst.MatchCase,
)
_BLOCK_STATEMENTS: Final = (cst.If, cst.For, cst.While, cst.Try, cst.TryStar, cst.With, cst.Match)


def declared_globals(body: cst.BaseSuite) -> frozenset[str]:
    """Names declared ``global`` directly in a def/class body (not in nested scopes)."""
    names: set[str] = set()
    stack: list[Any] = [body]
    while stack:
        node = stack.pop()
        if isinstance(node, cst.Global):
            names.update(ident(item.name.value) for item in node.names)
        elif isinstance(node, _STATEMENT_LISTS):
            stack.extend(node.body)
        elif isinstance(node, _SUITE_HOLDERS):
            stack.append(node.body)
        elif isinstance(node, _BLOCK_STATEMENTS):
            for part in ("body", "orelse", "handlers", "finalbody", "cases"):
                value = getattr(node, part, None)
                if isinstance(value, cst.CSTNode):
                    stack.append(value)
                elif value:
                    stack.extend(value)
    return frozenset(names)
