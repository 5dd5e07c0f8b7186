"""Stage-0 ``ast`` extractor: normalized syntax rows (CONTRACT.md §5.2) from ``ast.parse``.

One pre-order walk over the tree, in source order, with an explicit stack (a deep tree must
not exhaust the interpreter's stack). Every row is a dict with the columns of the contract's
``ast`` table except ``path``, which the runner adds.

Decisions the contract leaves open, taken here and reported to the lead:
- ``qualname`` is set on ``module`` (``""``), ``class``, ``function`` and ``lambda`` rows
  only. Qualnames follow CPython exactly, including the two rules a plain nesting walk
  misses: comprehensions are a qualname level without ``<locals>``
  (``f.<locals>.<listcomp>.<lambda>``), and a def/class whose name is declared ``global``
  in its enclosing def/class gets its bare name.
- Expressions are attributed to the scope that evaluates them: decorators, bases, class
  keywords, defaults and annotations belong to the enclosing scope (``scope_qualname`` and
  ``parent_ordinal``); parameters and the body belong to the definition.
- Import flags are lexical: every enclosing ``try``/``if`` counts, even across a def.

The scope, qualname and import-flag rules are shared with the ``cst`` and ``tree_sitter``
extractors (:mod:`backends.extract.syntax_scope`); node facts are read in
:mod:`backends.extract.ast_facts`.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

from backends.extract.ast_facts import (
    base_text,
    declared_globals,
    decorator_text,
    expr_text,
    has_docstring,
    module_all,
)
from backends.extract.registry import PER_FILE_VERSIONS
from backends.extract.result import FileResult, FileWarning
from backends.extract.source import SourceFile
from backends.extract.syntax_common import NULL_SPAN, guarded, span_unmapped_warning, utf8_span
from backends.extract.syntax_scope import ScopeCtx, ScopedRows

NAME: Final = "ast"
VERSION: Final = PER_FILE_VERSIONS["ast"]

_CTX_NAMES: Final[dict[type[ast.expr_context], str]] = {
    ast.Load: "load",
    ast.Store: "store",
    ast.Del: "del",
}
_COMPREHENSION_NAMES: Final[dict[type[ast.expr], str]] = {
    ast.ListComp: "<listcomp>",
    ast.SetComp: "<setcomp>",
    ast.DictComp: "<dictcomp>",
    ast.GeneratorExp: "<genexpr>",
}
_IDENTIFIER: Final = re.compile(r"\w+")
_Ctx = ScopeCtx[list[ast.stmt]]


@dataclass(frozen=True, slots=True)
class _Param:
    """A parameter waiting on the stack, so that it is emitted in source order."""

    arg: ast.arg
    kind: str
    index: int
    has_default: bool


class _Walker(ScopedRows[list[ast.stmt]]):
    """Emits the rows of one file; holds the per-file state of the walk."""

    def __init__(self, source: SourceFile) -> None:
        super().__init__()
        self.source = source
        self.data = source.data
        self.unmapped = 0
        self.first_unmapped_line: int | None = None

    def declared_globals(self, body: list[ast.stmt]) -> frozenset[str]:
        return declared_globals(body)

    # -- spans ------------------------------------------------------------------------------

    def span(self, line: int, col: int, end_line: int | None, end_col: int | None) -> Any:
        span = None
        if end_line is not None and end_col is not None:
            span = utf8_span(self.source, line, col, end_line, end_col)
        if span is None:
            self.unmapped += 1
            if self.first_unmapped_line is None:
                self.first_unmapped_line = line
            return NULL_SPAN
        return span

    def node_span(self, node: ast.expr | ast.stmt | ast.alias) -> Any:
        return self.span(node.lineno, node.col_offset, node.end_lineno, node.end_col_offset)

    # -- the walk ---------------------------------------------------------------------------

    def walk(self, module: ast.Module) -> None:
        total = self.source.lines.total_bytes
        root = self.emit(
            None,
            "module",
            self.source.lines.span(0, total),
            qualname="",
            detail={"all": module_all(module.body), "docstring": has_docstring(module.body)},
        )
        ctx = _Ctx.module(root)
        stack: list[tuple[Any, _Ctx]] = [(stmt, ctx) for stmt in reversed(module.body)]
        while stack:
            node, ctx = stack.pop()
            children = self.visit(node, ctx)
            stack.extend(reversed(children))

    def visit(self, node: Any, ctx: _Ctx) -> list[tuple[Any, _Ctx]]:
        """Emit the rows of one node; return its children, in source order, with their ctx."""
        handler = _HANDLERS.get(type(node))
        if handler is None:
            return [(child, ctx) for child in ast.iter_child_nodes(node)]
        return handler(self, node, ctx)

    def visit_leaf(self, node: ast.AST, ctx: _Ctx) -> list[tuple[Any, _Ctx]]:
        return []

    def visit_name(self, node: ast.Name, ctx: _Ctx) -> list[tuple[Any, _Ctx]]:
        self.emit(ctx, "name", self.node_span(node), name=node.id, node_ctx=_ctx(node))
        return []

    def visit_attribute(self, node: ast.Attribute, ctx: _Ctx) -> list[tuple[Any, _Ctx]]:
        self.emit(
            ctx,
            "attribute",
            self.node_span(node),
            name=node.attr,
            expr=expr_text(node),
            node_ctx=_ctx(node),
        )
        return [(node.value, ctx)]

    def visit_declaration(self, node: ast.Global | ast.Nonlocal, ctx: _Ctx) -> Any:
        kind = "global" if isinstance(node, ast.Global) else "nonlocal"
        span = self.node_span(node)
        for name in node.names:
            self.emit(ctx, kind, span, name=name)
        return []

    def visit_try(self, node: ast.Try | ast.TryStar, ctx: _Ctx) -> list[tuple[Any, _Ctx]]:
        inner = ctx.enter_try()
        return [
            *((s, inner) for s in node.body),
            *((h, inner) for h in node.handlers),
            *((s, ctx) for s in node.orelse),
            *((s, ctx) for s in node.finalbody),
        ]

    def visit_if(self, node: ast.If, ctx: _Ctx) -> list[tuple[Any, _Ctx]]:
        body_ctx = ctx.enter_if(expr_text(node.test))
        else_ctx = ctx.enter_else()
        return [
            (node.test, ctx),
            *((s, body_ctx) for s in node.body),
            *((s, else_ctx) for s in node.orelse),
        ]

    # -- definitions ------------------------------------------------------------------------

    def definition(
        self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef, ctx: _Ctx, **detail: Any
    ) -> _Ctx:
        """Emit the row of a def/class, ending at its last statement; return its body's ctx."""
        kind = "class" if isinstance(node, ast.ClassDef) else "function"
        qualname = self.def_qualname(node.name, ctx)
        last = node.body[-1]
        ordinal = self.emit(
            ctx,
            kind,
            self.span(node.lineno, node.col_offset, last.end_lineno, last.end_col_offset),
            name=node.name,
            qualname=qualname,
            detail={
                **detail,
                "decorators": [decorator_text(d) for d in node.decorator_list],
                "docstring": has_docstring(node.body),
            },
        )
        return ctx.enter(kind, qualname, ordinal, node.body)

    def visit_function(self, node: ast.FunctionDef | ast.AsyncFunctionDef, ctx: _Ctx) -> Any:
        is_async = isinstance(node, ast.AsyncFunctionDef)
        inner = self.definition(node, ctx, is_async=is_async, is_method=ctx.in_class_body)
        return [
            *((d, ctx) for d in node.decorator_list),
            *self.parameters(node.args, ctx, inner),
            *([(node.returns, ctx)] if node.returns is not None else []),
            *((s, inner) for s in node.body),
        ]

    def visit_class(self, node: ast.ClassDef, ctx: _Ctx) -> Any:
        keywords = {k.arg if k.arg is not None else "**": expr_text(k.value) for k in node.keywords}
        bases = [base_text(b) for b in node.bases]
        inner = self.definition(node, ctx, bases=bases, keywords=keywords)
        return [
            *((d, ctx) for d in node.decorator_list),
            *((b, ctx) for b in node.bases),
            *((k, ctx) for k in node.keywords),
            *((s, inner) for s in node.body),
        ]

    def visit_lambda(self, node: ast.Lambda, ctx: _Ctx) -> Any:
        qualname = ctx.qual_prefix + "<lambda>"
        ordinal = self.emit(ctx, "lambda", self.node_span(node), name="<lambda>", qualname=qualname)
        inner = ctx.enter("lambda", qualname, ordinal, None)
        return [*self.parameters(node.args, ctx, inner), (node.body, inner)]

    def visit_comprehension(
        self, node: ast.ListComp | ast.SetComp | ast.DictComp | ast.GeneratorExp, ctx: _Ctx
    ) -> Any:
        # Its first iterable is evaluated in the enclosing scope.
        inner = ctx.enter_comprehension(_COMPREHENSION_NAMES[type(node)])
        elts: list[ast.expr] = (
            [node.key, node.value] if isinstance(node, ast.DictComp) else [node.elt]
        )
        children: list[tuple[Any, _Ctx]] = [(e, inner) for e in elts]
        for i, gen in enumerate(node.generators):
            children.append((gen.target, inner))
            children.append((gen.iter, ctx if i == 0 else inner))
            children.extend((cond, inner) for cond in gen.ifs)
        return children

    def parameters(self, args: ast.arguments, outer: _Ctx, inner: _Ctx) -> Any:
        """Parameter rows (in ``inner``), each followed by its annotation and default
        (evaluated in ``outer``)."""
        positional = [*args.posonlyargs, *args.args]
        defaults: list[ast.expr | None] = [None] * (len(positional) - len(args.defaults))
        defaults.extend(args.defaults)
        entries: list[tuple[ast.arg, str, ast.expr | None]] = [
            (a, "posonly" if i < len(args.posonlyargs) else "positional", defaults[i])
            for i, a in enumerate(positional)
        ]
        if args.vararg is not None:
            entries.append((args.vararg, "vararg", None))
        entries.extend(
            (a, "kwonly", d) for a, d in zip(args.kwonlyargs, args.kw_defaults, strict=True)
        )
        if args.kwarg is not None:
            entries.append((args.kwarg, "kwarg", None))
        children: list[tuple[Any, _Ctx]] = []
        for index, (arg, kind, default) in enumerate(entries):
            children.append((_Param(arg, kind, index, default is not None), inner))
            if arg.annotation is not None:
                children.append((arg.annotation, outer))
            if default is not None:
                children.append((default, outer))
        return children

    def visit_param(self, param: _Param, ctx: _Ctx) -> list[tuple[Any, _Ctx]]:
        arg = param.arg
        self.emit(
            ctx,
            "parameter",
            self.span(arg.lineno, arg.col_offset, arg.lineno, self.name_end(arg)),
            name=arg.arg,
            expr=expr_text(arg.annotation),
            detail={"kind": param.kind, "index": param.index, "has_default": param.has_default},
        )
        return []

    def name_end(self, arg: ast.arg) -> int:
        """UTF-8 end column of a parameter's name (``ast.arg`` also covers the annotation)."""
        encoded = arg.arg.encode("utf-8")
        try:
            start = self.source.lines.from_utf8_col(arg.lineno, arg.col_offset)
        except ValueError:
            return arg.col_offset + len(encoded)
        if self.data[start : start + len(encoded)] == encoded:
            return arg.col_offset + len(encoded)
        # The source spelling is not NFKC-normalized (ast normalizes identifiers): measure
        # the identifier as written.
        line = self.source.lines.line_text(arg.lineno).encode("utf-8")
        written = _IDENTIFIER.match(line[arg.col_offset :].decode("utf-8", "replace"))
        length = len(written.group(0).encode("utf-8")) if written else len(encoded)
        return arg.col_offset + length

    # -- calls and imports ------------------------------------------------------------------

    def visit_call(self, node: ast.Call, ctx: _Ctx) -> list[tuple[Any, _Ctx]]:
        self.emit_call(
            ctx,
            self.node_span(node),
            expr_text(node.func),
            nargs=len(node.args),
            nkeywords=len(node.keywords),
            first=node.args[0] if node.args else None,
            literal=_string_literal,
        )
        return [
            (node.func, ctx),
            *((a, ctx) for a in node.args),
            *((k, ctx) for k in node.keywords),
        ]

    def visit_import(self, node: ast.Import | ast.ImportFrom, ctx: _Ctx) -> Any:
        for alias in node.names:
            name: str | None
            module: str | None
            if isinstance(node, ast.Import):
                name, module, level = None, alias.name, 0
            else:
                name, module, level = alias.name, node.module, node.level
            self.emit(
                ctx,
                "import",
                self.node_span(alias),
                name=name,
                expr=module,
                detail=ctx.import_detail(level=level, asname=alias.asname, dynamic=None),
            )
        return []


# Node type -> the _Walker method that emits its rows; other nodes just yield their children.
_HANDLERS: Final[dict[type, Callable[[_Walker, Any, _Ctx], list[tuple[Any, _Ctx]]]]] = {
    node_type: handler
    for node_types, handler in (
        ((ast.Name,), _Walker.visit_name),
        ((ast.Attribute,), _Walker.visit_attribute),
        ((ast.Call,), _Walker.visit_call),
        ((_Param,), _Walker.visit_param),
        ((ast.FunctionDef, ast.AsyncFunctionDef), _Walker.visit_function),
        ((ast.ClassDef,), _Walker.visit_class),
        ((ast.Lambda,), _Walker.visit_lambda),
        (tuple(_COMPREHENSION_NAMES), _Walker.visit_comprehension),
        ((ast.Import, ast.ImportFrom), _Walker.visit_import),
        ((ast.Global, ast.Nonlocal), _Walker.visit_declaration),
        ((ast.Try, ast.TryStar), _Walker.visit_try),
        ((ast.If,), _Walker.visit_if),
        # The most frequent childless nodes: skip ast.iter_child_nodes.
        ((ast.Constant, ast.Load, ast.Store, ast.Del, ast.Pass), _Walker.visit_leaf),
    )
    for node_type in node_types
}


def _ctx(node: ast.Name | ast.Attribute) -> str | None:
    return _CTX_NAMES.get(type(node.ctx))


def _string_literal(node: ast.expr) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def extract(source: SourceFile) -> FileResult:
    """The ``ast`` rows of one file, or a syntax/recursion warning and no rows."""
    tree, warning = guarded(
        source, lambda: ast.parse(source.text, filename=source.path, type_comments=False)
    )
    if warning is not None:
        return FileResult(rows=[], warnings=[warning])
    walker = _Walker(source)
    walker.walk(tree)
    warnings: list[FileWarning] = []
    if walker.unmapped:
        warnings.append(span_unmapped_warning(walker.unmapped, walker.first_unmapped_line))
    return FileResult(rows=walker.rows, warnings=warnings)
