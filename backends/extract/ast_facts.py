"""Facts the ``ast`` extractor reads off ``ast`` nodes: *expr text*, docstrings, ``__all__``,
``global`` declarations (CONTRACT.md §5.2). Pure functions of the tree, no positions."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from backends.extract.syntax_common import literal_all

_FunctionNode = ast.FunctionDef | ast.AsyncFunctionDef


def expr_text(node: ast.AST | None) -> str | None:
    """§5.2 *expr text*: a dotted chain of names (optionally from ``super()``), else None."""
    parts: list[str] = []
    while True:
        if isinstance(node, ast.Attribute):
            parts.append(node.attr)
            node = node.value
        elif isinstance(node, ast.Name):
            parts.append(node.id)
            break
        elif (
            parts
            and isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "super"
            and not node.args
            and not node.keywords
        ):
            parts.append("super()")
            break
        else:
            return None
    return ".".join(reversed(parts))


def base_text(node: ast.expr) -> str | None:
    """A base class: ``Generic[T]`` is written ``Generic``."""
    return expr_text(node.value if isinstance(node, ast.Subscript) else node)


def decorator_text(node: ast.expr) -> str | None:
    """A decorator: ``@app.route("/")`` is written ``app.route``."""
    if isinstance(node, ast.Call):
        node = node.func
    return base_text(node)


def has_docstring(body: list[ast.stmt]) -> bool:
    """Whether a module, class or function body starts with a string literal."""
    first = body[0] if body else None
    return (
        isinstance(first, ast.Expr)
        and isinstance(first.value, ast.Constant)
        and isinstance(first.value.value, str)
    )


def declared_globals(body: list[ast.stmt]) -> frozenset[str]:
    """Names declared ``global`` directly in a def/class body (not in nested scopes)."""
    names: set[str] = set()
    stack: list[ast.AST] = list(body)
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Global):
            names.update(node.names)
        elif not isinstance(node, _FunctionNode | ast.ClassDef | ast.Lambda | ast.expr):
            # Only statements hold `global`; expressions and nested scopes cannot.
            stack.extend(ast.iter_child_nodes(node))
    return frozenset(names)


def _string_list(node: ast.expr | None) -> list[str] | None:
    """The strings of a list/tuple display of string literals, else None."""
    if not isinstance(node, ast.List | ast.Tuple):
        return None
    values = [e.value if isinstance(e, ast.Constant) else None for e in node.elts]
    strings = [v for v in values if isinstance(v, str)]
    return strings if len(strings) == len(values) else None


def _all_target(stmt: ast.stmt) -> ast.expr | None:
    """The value bound to ``__all__`` by ``__all__ = ...`` or ``__all__: T = ...``."""
    if isinstance(stmt, ast.Assign) and any(
        isinstance(t, ast.Name) and t.id == "__all__" for t in stmt.targets
    ):
        return stmt.value
    if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
        return stmt.value if stmt.target.id == "__all__" else None
    return None


def _all_bindings(body: list[ast.stmt]) -> Iterator[tuple[bool, list[str] | None]]:
    for stmt in body:
        value = _all_target(stmt)
        if value is not None:
            yield False, _string_list(value)
        elif (
            isinstance(stmt, ast.AugAssign)
            and isinstance(stmt.target, ast.Name)
            and stmt.target.id == "__all__"
            and isinstance(stmt.op, ast.Add)
        ):
            yield True, _string_list(stmt.value)


def module_all(body: list[ast.stmt]) -> list[str] | None:
    """Literal ``__all__`` of the module body; None when absent or not a literal."""
    return literal_all(_all_bindings(body))
