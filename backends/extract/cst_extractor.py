"""Stage-0 ``cst`` extractor: normalized syntax rows (CONTRACT.md §5.2) from libcst.

libcst metadata is the extraction hot spot (FACTS.md), so no metadata provider is used. The
rows come from one code-generation pass over the parsed module with a CodegenState of our
own: codegen visits every node in source order (pre-order via ``before_codegen``), and the
text it emits *is* the source, so the running length of the emitted tokens is the code-point
offset of every node. That gives positions and the walk for the price of one ``module.code``;
the output is checked against the source text before any offset is trusted.

Semantics are those of the ``ast`` and ``tree_sitter`` extractors (scopes, qualnames with
comprehension levels and ``global`` declarations, NFKC identifiers, lexical import flags, a
definition ending where CPython ends its last body statement); ``cst`` also emits a
``comment`` row per comment.
"""

from __future__ import annotations

import sys
import unicodedata
from bisect import bisect_left
from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, replace
from typing import Any, Final

import libcst as cst
from libcst._nodes.internal import CodegenState

from backends.extract.result import FileResult, FileWarning
from backends.extract.source import SourceFile
from backends.extract.syntax_common import (
    NULL_SPAN,
    RECURSION_LIMIT,
    SPAN_UNMAPPED,
    SYNTAX_ERROR,
    encode_detail,
    quiet_compiler,
)

NAME: Final = "cst"
VERSION: Final = "1"

# libcst codegen recurses in Python about twice per nesting level (a 1000-term `a + b + ...`
# already exceeds the default limit of 1000). Pure Python frames do not grow the C stack on
# CPython 3.11, so a higher limit is safe while codegen runs.
_RECURSION_LIMIT: Final = 30_000
_DYNAMIC_IMPORTS: Final = {"importlib.import_module": "importlib", "__import__": "__import__"}
_CONSTANTS: Final = frozenset({"True", "False", "None"})  # Names to libcst, constants to ast
_TYPE_CHECKING: Final = frozenset({"TYPE_CHECKING", "typing.TYPE_CHECKING"})
_COMPREHENSIONS: Final[dict[type[cst.CSTNode], str]] = {
    cst.ListComp: "<listcomp>",
    cst.SetComp: "<setcomp>",
    cst.DictComp: "<dictcomp>",
    cst.GeneratorExp: "<genexpr>",
}
# First characters of the tokens that never end a statement: whitespace (with backslash
# continuations) and comments. No other token starts with one of them.
_TRIVIA_START: Final = frozenset(" \t\f\v\r\n\\#")


@dataclass(frozen=True, slots=True)
class _Ctx:
    """Where a node sits: its scope, the qualname prefix of definitions in it, import flags."""

    scope_qualname: str
    parent_ordinal: int
    qual_prefix: str  # prefix of a child definition's qualname: "", "C.", "f.<locals>."
    scope_kind: str  # module, class, function, lambda, comprehension
    scope_body: cst.BaseSuite | None  # the def/class body holding `global` declarations
    in_class_body: bool = False
    in_try: bool = False
    in_type_checking: bool = False
    in_function: bool = False
    in_if: bool = False


def _ident(text: str) -> str:
    """An identifier as the interpreter sees it (PEP 3131: NFKC-normalized)."""
    return text if text.isascii() else unicodedata.normalize("NFKC", text)


def expr_text(node: cst.CSTNode | None) -> str | None:
    """§5.2 *expr text*: a dotted chain of names (optionally from ``super()``), else None."""
    parts: list[str] = []
    while True:
        if isinstance(node, cst.Attribute):
            parts.append(_ident(node.attr.value))
            node = node.value
        elif isinstance(node, cst.Name) and node.value not in _CONSTANTS:
            parts.append(_ident(node.value))
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


def _base_text(node: cst.BaseExpression) -> str | None:
    """A base class: ``Generic[T]`` is written ``Generic``."""
    return expr_text(node.value if isinstance(node, cst.Subscript) else node)


def _decorator_text(node: cst.BaseExpression) -> str | None:
    """A decorator: ``@app.route("/")`` is written ``app.route``."""
    return _base_text(node.func if isinstance(node, cst.Call) else node)


def _string_value(node: cst.BaseExpression) -> str | None:
    """The value of a plain ``str`` literal (implicit concatenation allowed), else None."""
    if isinstance(node, cst.ConcatenatedString):
        left, right = _string_value(node.left), _string_value(node.right)
        return None if left is None or right is None else left + right
    if not isinstance(node, cst.SimpleString) or "b" in node.prefix.lower():
        return None
    try:
        value = node.evaluated_value
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        return None
    return value if isinstance(value, str) else None


def _has_docstring(body: Sequence[cst.CSTNode]) -> bool:
    first = body[0] if body else None
    if isinstance(first, cst.SimpleStatementLine):
        first = first.body[0] if first.body else None
    return isinstance(first, cst.Expr) and _string_value(first.value) is not None


def _string_list(node: cst.BaseExpression | None) -> list[str] | None:
    """The strings of a list/tuple display of string literals, else None."""
    if not isinstance(node, cst.List | cst.Tuple):
        return None
    values = [_string_value(e.value) if isinstance(e, cst.Element) else None for e in node.elements]
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


def _module_all(module: cst.Module) -> list[str] | None:
    """Literal ``__all__`` of the module body; None when absent or not a literal."""
    known: list[str] | None = None
    unknown = False
    for line in module.body:
        for stmt in line.body if isinstance(line, cst.SimpleStatementLine) else ():
            value = _all_value(stmt)
            if value is not None:
                known = _string_list(value)
                unknown = known is None
            elif (
                isinstance(stmt, cst.AugAssign)
                and _is_all(stmt.target)
                and isinstance(stmt.operator, cst.AddAssign)
            ):
                extra = _string_list(stmt.value)
                if extra is None:
                    unknown = True
                elif not unknown:
                    known = (known or []) + extra
    return None if unknown else known


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


def _declared_globals(body: cst.BaseSuite) -> frozenset[str]:
    """Names declared ``global`` directly in a def/class body (not in nested scopes)."""
    names: set[str] = set()
    stack: list[Any] = [body]
    while stack:
        node = stack.pop()
        if isinstance(node, cst.Global):
            names.update(_ident(item.name.value) for item in node.names)
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


class _NoSpan:
    """The context manager of a node whose position nobody asked for."""

    __slots__ = ()

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


_NO_SPAN: Final = _NoSpan()


class _Span:
    """Records the code-point range emitted inside it as the span of some rows."""

    __slots__ = ("ordinals", "start", "state")

    def __init__(self, state: _Codegen, ordinals: list[int]) -> None:
        self.state = state
        self.ordinals = ordinals
        self.start = state.offset

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        for ordinal in self.ordinals:
            self.state.spans[ordinal] = [self.start, self.state.offset]


class _Codegen(CodegenState):
    """A CodegenState that tracks offsets and emits the rows of one file as codegen runs."""

    def __init__(self, module: cst.Module) -> None:
        super().__init__(
            default_indent=module.default_indent, default_newline=module.default_newline
        )
        self.offset = 0  # code points emitted so far
        self.last_sig = 0  # end of the last significant token, `;` excluded
        self.last_semi = 0  # same, `;` included
        self.rows: list[dict[str, Any]] = []
        self.spans: list[list[int]] = []  # code-point [start, end] per row
        self.stack: list[tuple[int, _Ctx]] = []  # (id of the node that pushed it, ctx)
        self.pending: dict[int, _Ctx] = {}  # contexts to enter at a node, by node id
        self.syntactic: dict[int, list[int]] = {}  # node id -> rows spanning it
        self.def_ends: dict[int, tuple[int, bool]] = {}  # def id -> (row, ends compound)
        self.globals_cache: dict[int, frozenset[str]] = {}

    # -- the codegen hooks ------------------------------------------------------------------

    def add_token(self, value: str) -> None:
        self.tokens.append(value)
        self.offset += len(value)
        if value and value[0] not in _TRIVIA_START:
            self.last_semi = self.offset
            if value != ";":
                self.last_sig = self.offset

    def add_indent_tokens(self) -> None:
        self.tokens.extend(self.indent_tokens)
        self.offset += sum(len(t) for t in self.indent_tokens)

    def before_codegen(self, node: cst.CSTNode) -> None:
        ctx = self.pending.pop(id(node), None)
        if ctx is not None:
            self.stack.append((id(node), ctx))
        handler = _HANDLERS.get(type(node))
        if handler is not None:
            handler(self, node, self.stack[-1][1])

    def after_codegen(self, node: cst.CSTNode) -> None:
        if self.stack[-1][0] == id(node):
            self.stack.pop()
        end = self.def_ends.pop(id(node), None)
        if end is not None:
            ordinal, compound = end
            self.spans[ordinal][1] = self.last_semi if compound else self.last_sig

    def record_syntactic_position(  # type: ignore[override]
        self,
        node: cst.CSTNode,
        *,
        start_node: cst.CSTNode | None = None,
        end_node: cst.CSTNode | None = None,
    ) -> AbstractContextManager[None]:
        # Called around the syntactic part of most nodes (parentheses excluded); a plain
        # object instead of libcst's generator-based context manager keeps codegen fast.
        ordinals = self.syntactic.pop(id(node), None)
        return _NO_SPAN if ordinals is None else _Span(self, ordinals)

    def visit_comment(self, node: cst.Comment, ctx: _Ctx) -> None:
        ordinal = self.emit("comment", ctx=ctx, expr=node.value)
        self.spans[ordinal] = [self.offset, self.offset + len(node.value)]

    # -- rows -------------------------------------------------------------------------------

    def emit(
        self,
        kind: str,
        *,
        ctx: _Ctx | None = None,
        span_of: cst.CSTNode | None = None,
        name: str | None = None,
        qualname: str | None = None,
        expr: str | None = None,
        detail: dict[str, Any] | None = None,
    ) -> int:
        ctx = ctx if ctx is not None else self.stack[-1][1] if self.stack else None
        ordinal = len(self.rows)
        self.rows.append(
            {
                "ordinal": ordinal,
                "parent_ordinal": None if ctx is None else ctx.parent_ordinal,
                "kind": kind,
                "name": name,
                "qualname": qualname,
                "scope_qualname": "" if ctx is None else ctx.scope_qualname,
                "expr": expr,
                "ctx": None,
                "detail": encode_detail(detail),
            }
        )
        self.spans.append([-1, -1])
        if span_of is not None:
            self.syntactic.setdefault(id(span_of), []).append(ordinal)
        return ordinal

    def run(self, module: cst.Module) -> None:
        ordinal = self.emit(
            "module",
            qualname="",
            detail={"all": _module_all(module), "docstring": _has_docstring(module.body)},
        )
        self.stack.append((-1, _Ctx("", ordinal, "", "module", None)))
        module._codegen(self)

    # -- definitions ------------------------------------------------------------------------

    def def_qualname(self, name: str, ctx: _Ctx) -> str:
        # CPython: a def/class declared `global` in its enclosing def/class is not nested.
        body = ctx.scope_body
        if ctx.scope_kind in ("function", "class") and body is not None:
            declared = self.globals_cache.get(id(body))
            if declared is None:
                declared = self.globals_cache[id(body)] = _declared_globals(body)
            if name in declared:
                return name
        return ctx.qual_prefix + name

    def definition(self, node: cst.FunctionDef | cst.ClassDef, kind: str, ctx: _Ctx) -> Any:
        name = _ident(node.name.value)
        qualname = self.def_qualname(name, ctx)
        detail: dict[str, Any] = {
            "decorators": [_decorator_text(d.decorator) for d in node.decorators]
        }
        detail["docstring"] = _has_docstring(node.body.body)
        if isinstance(node, cst.FunctionDef):
            detail["is_async"] = node.asynchronous is not None
            detail["is_method"] = ctx.in_class_body
        else:
            detail["bases"] = [None if a.star else _base_text(a.value) for a in node.bases]
            detail["keywords"] = {
                _ident(a.keyword.value) if a.keyword else "**": expr_text(a.value)
                for a in node.keywords
            }
        ordinal = self.emit(
            kind, ctx=ctx, span_of=node, name=name, qualname=qualname, detail=detail
        )
        last = node.body.body[-1] if node.body.body else None
        self.def_ends[id(node)] = (ordinal, isinstance(last, cst.BaseCompoundStatement))
        return qualname, ordinal

    def visit_function(self, node: cst.FunctionDef, ctx: _Ctx) -> None:
        qualname, ordinal = self.definition(node, "function", ctx)
        inner = _Ctx(
            qualname,
            ordinal,
            qualname + ".<locals>.",
            "function",
            node.body,
            in_try=ctx.in_try,
            in_type_checking=ctx.in_type_checking,
            in_function=True,
            in_if=ctx.in_if,
        )
        self.parameters(node.params, inner)
        self.pending[id(node.body)] = inner

    def visit_class(self, node: cst.ClassDef, ctx: _Ctx) -> None:
        qualname, ordinal = self.definition(node, "class", ctx)
        self.pending[id(node.body)] = _Ctx(
            qualname,
            ordinal,
            qualname + ".",
            "class",
            node.body,
            in_class_body=True,
            in_try=ctx.in_try,
            in_type_checking=ctx.in_type_checking,
            in_function=ctx.in_function,
            in_if=ctx.in_if,
        )

    def visit_lambda(self, node: cst.Lambda, ctx: _Ctx) -> None:
        qualname = ctx.qual_prefix + "<lambda>"
        ordinal = self.emit("lambda", ctx=ctx, span_of=node, name="<lambda>", qualname=qualname)
        inner = replace(
            ctx,
            scope_qualname=qualname,
            parent_ordinal=ordinal,
            qual_prefix=qualname + ".<locals>.",
            scope_kind="lambda",
            scope_body=None,
            in_class_body=False,
            in_function=True,
        )
        self.parameters(node.params, inner)
        self.pending[id(node.body)] = inner

    def visit_comprehension(self, node: Any, ctx: _Ctx) -> None:
        # A comprehension is a CPython scope of its own: it shows in the qualname of a
        # lambda inside it, but not in scope_qualname. Its first iterable is evaluated in
        # the enclosing scope.
        inner = replace(
            ctx,
            qual_prefix=ctx.qual_prefix + _COMPREHENSIONS[type(node)] + ".",
            scope_kind="comprehension",
            scope_body=None,
            in_class_body=False,
        )
        parts = [node.key, node.value] if isinstance(node, cst.DictComp) else [node.elt]
        first: cst.CompFor = node.for_in
        parts.append(first.target)
        parts.extend(first.ifs)
        if first.inner_for_in is not None:
            parts.append(first.inner_for_in)
        for part in parts:
            self.pending[id(part)] = inner

    def parameters(self, params: cst.Parameters, inner: _Ctx) -> None:
        """Parameter rows (in ``inner``); annotations and defaults stay in the outer scope."""
        entries: list[tuple[cst.Param, str]] = [(p, "posonly") for p in params.posonly_params]
        entries.extend((p, "positional") for p in params.params)
        if isinstance(params.star_arg, cst.Param):
            entries.append((params.star_arg, "vararg"))
        entries.extend((p, "kwonly") for p in params.kwonly_params)
        if params.star_kwarg is not None:
            entries.append((params.star_kwarg, "kwarg"))
        for index, (param, kind) in enumerate(entries):
            annotation = param.annotation.annotation if param.annotation else None
            self.emit(
                "parameter",
                ctx=inner,
                span_of=param.name,
                name=_ident(param.name.value),
                expr=expr_text(annotation),
                detail={"kind": kind, "index": index, "has_default": param.default is not None},
            )

    # -- calls, imports, declarations -------------------------------------------------------

    def visit_call(self, node: cst.Call, ctx: _Ctx) -> None:
        callee = expr_text(node.func)
        positional = [a for a in node.args if a.keyword is None and a.star != "**"]
        self.emit(
            "call",
            ctx=ctx,
            span_of=node,
            name=callee.rsplit(".", 1)[-1] if callee else None,
            expr=callee,
            detail={"nargs": len(positional), "nkeywords": len(node.args) - len(positional)},
        )
        dynamic = _DYNAMIC_IMPORTS.get(callee or "")
        first = positional[0] if dynamic and positional else None
        module = _string_value(first.value) if first is not None and not first.star else None
        if dynamic is not None and module is not None:
            detail = _import_detail(ctx, level=0, asname=None, dynamic=dynamic)
            self.emit("import", ctx=ctx, span_of=node, expr=module, detail=detail)

    def visit_import(self, node: cst.Import | cst.ImportFrom, ctx: _Ctx) -> None:
        module: str | None = None
        level: int | None = None  # None for a plain `import`
        if isinstance(node, cst.ImportFrom):
            module = expr_text(node.module) if node.module is not None else None
            level = len(node.relative)
        if isinstance(node.names, cst.ImportStar):
            detail = _import_detail(ctx, level=level or 0, asname=None, dynamic=None)
            self.emit("import", ctx=ctx, span_of=node.names, name="*", expr=module, detail=detail)
            return
        for alias in node.names:
            dotted = expr_text(alias.name)
            asname = alias.asname.name if alias.asname is not None else None
            self.emit(
                "import",
                ctx=ctx,
                span_of=alias,
                name=None if level is None else dotted,
                expr=dotted if level is None else module,
                detail=_import_detail(
                    ctx,
                    level=level or 0,
                    asname=expr_text(asname) if isinstance(asname, cst.Name) else None,
                    dynamic=None,
                ),
            )

    def visit_import_star(self, node: cst.ImportStar, ctx: _Ctx) -> None:
        # `*` has no syntactic-position hook in libcst: its span is its one token.
        for ordinal in self.syntactic.pop(id(node), ()):
            self.spans[ordinal] = [self.offset, self.offset + 1]

    def visit_declaration(self, node: cst.Global | cst.Nonlocal, ctx: _Ctx) -> None:
        kind = "global" if isinstance(node, cst.Global) else "nonlocal"
        for item in node.names:
            self.emit(kind, ctx=ctx, span_of=node, name=_ident(item.name.value))

    # -- flags ------------------------------------------------------------------------------

    def visit_try(self, node: cst.Try | cst.TryStar, ctx: _Ctx) -> None:
        inner = replace(ctx, in_try=True)
        self.pending[id(node.body)] = inner
        for handler in node.handlers:
            self.pending[id(handler)] = inner

    def visit_if(self, node: cst.If, ctx: _Ctx) -> None:
        guard = expr_text(node.test) in _TYPE_CHECKING
        self.pending[id(node.body)] = replace(
            ctx, in_if=True, in_type_checking=ctx.in_type_checking or guard
        )
        if node.orelse is not None:
            self.pending[id(node.orelse)] = replace(ctx, in_if=True)


def _import_detail(ctx: _Ctx, *, level: int, asname: str | None, dynamic: str | None) -> Any:
    return {
        "level": level,
        "asname": asname,
        "dynamic": dynamic,
        "in_try": ctx.in_try,
        "in_type_checking": ctx.in_type_checking,
        "in_function": ctx.in_function,
        "conditional": ctx.in_try or ctx.in_type_checking or ctx.in_function or ctx.in_if,
    }


_HANDLERS: Final[dict[type[cst.CSTNode], Any]] = {
    cst.FunctionDef: _Codegen.visit_function,
    cst.ClassDef: _Codegen.visit_class,
    cst.Lambda: _Codegen.visit_lambda,
    cst.Call: _Codegen.visit_call,
    cst.Import: _Codegen.visit_import,
    cst.ImportFrom: _Codegen.visit_import,
    cst.ImportStar: _Codegen.visit_import_star,
    cst.Global: _Codegen.visit_declaration,
    cst.Nonlocal: _Codegen.visit_declaration,
    cst.Try: _Codegen.visit_try,
    cst.TryStar: _Codegen.visit_try,
    cst.If: _Codegen.visit_if,
    cst.Comment: _Codegen.visit_comment,
    **dict.fromkeys(_COMPREHENSIONS, _Codegen.visit_comprehension),
}


class _Offsets:
    """Code-point offsets of the generated text -> canonical byte offsets of the source.

    libcst reproduces its input exactly except for rare whitespace it drops (1.9.0 loses the
    space in ``except (A, B) :``). Every span starts on a token and ends after one, so when
    the texts differ only in whitespace, the k-th non-space character of one is the k-th of
    the other.
    """

    def __init__(self, source: SourceFile, generated: str) -> None:
        self.to_bytes = source.lines.from_char_offset
        self.valid = True
        self.gen_pos: list[int] | None = None
        self.src_pos: list[int] = []
        if generated != source.text:
            self.gen_pos = [i for i, ch in enumerate(generated) if not ch.isspace()]
            self.src_pos = [i for i, ch in enumerate(source.text) if not ch.isspace()]
            same = len(self.gen_pos) == len(self.src_pos) and all(
                generated[g] == source.text[s]
                for g, s in zip(self.gen_pos, self.src_pos, strict=True)
            )
            self.valid = same

    def start(self, offset: int) -> int:
        if self.gen_pos is not None:
            offset = self.src_pos[min(bisect_left(self.gen_pos, offset), len(self.src_pos) - 1)]
        return self.to_bytes(offset)

    def end(self, offset: int) -> int:
        if self.gen_pos is not None:
            offset = self.src_pos[max(bisect_left(self.gen_pos, offset) - 1, 0)] + 1
        return self.to_bytes(offset)


# libcst reports nesting limits of its tokenizer as syntax errors; only the message says so.
_NESTING_MESSAGES: Final = ("too many indentation levels", "too many nested", "recursion")


def _failure(source: SourceFile, exc: BaseException) -> FileResult:
    """No rows and one warning: a syntax error, or nesting too deep for libcst."""
    kind = type(exc).__name__
    text = (exc.message if isinstance(exc, cst.ParserSyntaxError) else str(exc)).strip()
    code = SYNTAX_ERROR
    if isinstance(exc, RecursionError | MemoryError) or any(m in text for m in _NESTING_MESSAGES):
        code = RECURSION_LIMIT
    position: dict[str, int] = {}
    if isinstance(exc, cst.ParserSyntaxError):
        try:
            offset = source.lines.from_codepoint_col(exc.raw_line, exc.raw_column)
        except ValueError:
            offset = -1
        if 0 <= offset <= source.lines.total_bytes:
            position = source.lines.span(offset, offset)
    warning = FileWarning(
        code=code,
        message=f"{kind}: {text.splitlines()[0]}" if text else kind,
        detail=encode_detail({"exception": kind}),
        **position,
    )
    return FileResult(rows=[], warnings=[warning])


def extract(source: SourceFile) -> FileResult:
    """The ``cst`` rows of one file, or a syntax/recursion warning and no rows."""
    limit = sys.getrecursionlimit()
    try:
        sys.setrecursionlimit(max(limit, _RECURSION_LIMIT))
        with quiet_compiler():
            try:
                module = cst.parse_module(source.text)
            except cst.ParserSyntaxError as exc:
                return _failure(source, exc)
            codegen = _Codegen(module)
            codegen.run(module)
    except (RecursionError, MemoryError) as exc:
        return _failure(source, exc)
    finally:
        sys.setrecursionlimit(limit)
    rows = codegen.rows
    generated = "".join(codegen.tokens)
    offsets = _Offsets(source, generated)
    if not offsets.valid:
        for row in rows:
            row.update(NULL_SPAN)
        message = "libcst did not reproduce the source text; spans are null"
        return FileResult(rows=rows, warnings=[FileWarning(code=SPAN_UNMAPPED, message=message)])
    lines = source.lines
    for row, (start, end) in zip(rows, codegen.spans, strict=True):
        if row["kind"] == "module":
            row.update(lines.span(0, lines.total_bytes))
        elif start < 0:
            row.update(NULL_SPAN)
        else:
            row.update(lines.span(offsets.start(start), offsets.end(end)))
    return FileResult(rows=rows, warnings=[])
