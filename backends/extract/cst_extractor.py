"""Stage-0 ``cst`` extractor: normalized syntax rows (CONTRACT.md §5.2) from libcst.

libcst metadata is the extraction hot spot (FACTS.md), so no metadata provider is used. The
rows come from one code-generation pass over the parsed module with a CodegenState of our
own: codegen visits every node in source order (pre-order via ``before_codegen``), and the
text it emits *is* the source, so the running length of the emitted tokens is the code-point
offset of every node. That gives positions and the walk for the price of one ``module.code``;
the output is checked against the source text before any offset is trusted.

Semantics are those of the ``ast`` and ``tree_sitter`` extractors (scopes, qualnames with
comprehension levels and ``global`` declarations, NFKC identifiers, lexical import flags: all
in :mod:`backends.extract.syntax_scope`; a definition ending where CPython ends its last body
statement); ``cst`` also emits a ``comment`` row per comment. Node facts are read in
:mod:`backends.extract.cst_facts`, offsets mapped in :mod:`backends.extract.cst_positions`.
"""

from __future__ import annotations

import io
import re
import sys
import tokenize
from collections.abc import Mapping
from contextlib import AbstractContextManager
from itertools import accumulate, islice
from typing import Any, Final

import libcst as cst
from libcst._nodes.internal import CodegenState

from backends.extract.cst_facts import (
    base_text,
    declared_globals,
    decorator_text,
    expr_text,
    has_docstring,
    module_all,
    string_value,
)
from backends.extract.cst_positions import NO_SPAN, Offsets, SpanRecorder
from backends.extract.registry import PER_FILE_VERSIONS
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
from backends.extract.syntax_scope import ScopeCtx, ScopedRows, ident

NAME: Final = "cst"
VERSION: Final = PER_FILE_VERSIONS["cst"]

# libcst codegen recurses in Python about twice per nesting level (a 1000-term `a + b + ...`
# already exceeds the default limit of 1000). Pure Python frames do not grow the C stack on
# CPython 3.11, so a higher limit is safe while codegen runs.
_RECURSION_LIMIT: Final = 30_000
_COMPREHENSIONS: Final[dict[type[cst.CSTNode], str]] = {
    cst.ListComp: "<listcomp>",
    cst.SetComp: "<setcomp>",
    cst.DictComp: "<dictcomp>",
    cst.GeneratorExp: "<genexpr>",
}
# First characters of the tokens that never end a statement: whitespace (with backslash
# continuations) and comments. No other token starts with one of them.
_TRIVIA_START: Final = frozenset(" \t\f\v\r\n\\#")
# The span columns of a row when it is emitted: they are added once codegen has run.
_UNPLACED: Final[Mapping[str, Any]] = {}
_Ctx = ScopeCtx[cst.BaseSuite]


class _Codegen(CodegenState, ScopedRows[cst.BaseSuite]):
    """A CodegenState that tracks offsets and emits the rows of one file as codegen runs."""

    def __init__(self, module: cst.Module) -> None:
        CodegenState.__init__(
            self, default_indent=module.default_indent, default_newline=module.default_newline
        )
        ScopedRows.__init__(self)
        self.offset = 0  # code points emitted so far
        self.last_sig = 0  # end of the last significant token, `;` excluded
        self.last_semi = 0  # same, `;` included
        self.spans: dict[int, list[int]] = {}  # row ordinal -> code-point [start, end]
        self.stack: list[tuple[int, _Ctx]] = []  # (id of the node that pushed it, ctx)
        self.pending: dict[int, _Ctx] = {}  # contexts to enter at a node, by node id
        self.syntactic: dict[int, list[int]] = {}  # node id -> rows spanning it
        self.def_ends: dict[int, tuple[int, bool]] = {}  # def id -> (row, ends compound)

    def declared_globals(self, body: cst.BaseSuite) -> frozenset[str]:
        return declared_globals(body)

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
            span = self.spans.get(ordinal)
            if span is not None:
                span[1] = self.last_semi if compound else self.last_sig

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
        return NO_SPAN if ordinals is None else SpanRecorder(self, ordinals)

    def place(self, ordinal: int, node: cst.CSTNode) -> int:
        """Give row ``ordinal`` the span of the syntactic part of ``node``, once generated."""
        self.syntactic.setdefault(id(node), []).append(ordinal)
        return ordinal

    def visit_comment(self, node: cst.Comment, ctx: _Ctx) -> None:
        ordinal = self.emit(ctx, "comment", _UNPLACED, expr=node.value)
        self.spans[ordinal] = [self.offset, self.offset + len(node.value)]

    def run(self, module: cst.Module) -> None:
        ordinal = self.emit(
            None,
            "module",
            _UNPLACED,
            qualname="",
            detail={"all": module_all(module), "docstring": has_docstring(module.body)},
        )
        self.stack.append((-1, _Ctx.module(ordinal)))
        module._codegen(self)

    # -- definitions ------------------------------------------------------------------------

    def definition(self, node: cst.FunctionDef | cst.ClassDef, kind: str, ctx: _Ctx) -> _Ctx:
        """Emit the row of a def/class, ending at its last statement; return its body's ctx."""
        name = ident(node.name.value)
        qualname = self.def_qualname(name, ctx)
        detail: dict[str, Any] = {
            "decorators": [decorator_text(d.decorator) for d in node.decorators]
        }
        detail["docstring"] = has_docstring(node.body.body)
        if isinstance(node, cst.FunctionDef):
            detail["is_async"] = node.asynchronous is not None
            detail["is_method"] = ctx.in_class_body
        else:
            detail["bases"] = [None if a.star else base_text(a.value) for a in node.bases]
            detail["keywords"] = {
                ident(a.keyword.value) if a.keyword else "**": expr_text(a.value)
                for a in node.keywords
            }
        row = self.emit(ctx, kind, _UNPLACED, name=name, qualname=qualname, detail=detail)
        ordinal = self.place(row, node)
        last = node.body.body[-1] if node.body.body else None
        self.def_ends[id(node)] = (ordinal, isinstance(last, cst.BaseCompoundStatement))
        inner = ctx.enter(kind, qualname, ordinal, node.body)
        self.pending[id(node.body)] = inner
        return inner

    def visit_function(self, node: cst.FunctionDef, ctx: _Ctx) -> None:
        self.parameters(node.params, self.definition(node, "function", ctx))

    def visit_class(self, node: cst.ClassDef, ctx: _Ctx) -> None:
        self.definition(node, "class", ctx)

    def visit_lambda(self, node: cst.Lambda, ctx: _Ctx) -> None:
        qualname = ctx.qual_prefix + "<lambda>"
        row = self.emit(ctx, "lambda", _UNPLACED, name="<lambda>", qualname=qualname)
        inner = ctx.enter("lambda", qualname, self.place(row, node), None)
        self.parameters(node.params, inner)
        self.pending[id(node.body)] = inner

    def visit_comprehension(self, node: Any, ctx: _Ctx) -> None:
        # Its first iterable is evaluated in the enclosing scope.
        inner = ctx.enter_comprehension(_COMPREHENSIONS[type(node)])
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
            row = self.emit(
                inner,
                "parameter",
                _UNPLACED,
                name=ident(param.name.value),
                expr=expr_text(annotation),
                detail={"kind": kind, "index": index, "has_default": param.default is not None},
            )
            self.place(row, param.name)

    # -- calls, imports, declarations -------------------------------------------------------

    def visit_call(self, node: cst.Call, ctx: _Ctx) -> None:
        positional = [a for a in node.args if a.keyword is None and a.star != "**"]
        rows = self.emit_call(
            ctx,
            _UNPLACED,
            expr_text(node.func),
            nargs=len(positional),
            nkeywords=len(node.args) - len(positional),
            first=positional[0] if positional else None,
            literal=_string_argument,
        )
        self.syntactic.setdefault(id(node), []).extend(rows)

    def visit_import(self, node: cst.Import | cst.ImportFrom, ctx: _Ctx) -> None:
        module: str | None = None
        level: int | None = None  # None for a plain `import`
        if isinstance(node, cst.ImportFrom):
            module = expr_text(node.module) if node.module is not None else None
            level = len(node.relative)
        if isinstance(node.names, cst.ImportStar):
            detail = ctx.import_detail(level=level or 0, asname=None, dynamic=None)
            row = self.emit(ctx, "import", _UNPLACED, name="*", expr=module, detail=detail)
            self.place(row, node.names)
            return
        for alias in node.names:
            dotted = expr_text(alias.name)
            asname = alias.asname.name if alias.asname is not None else None
            row = self.emit(
                ctx,
                "import",
                _UNPLACED,
                name=None if level is None else dotted,
                expr=dotted if level is None else module,
                detail=ctx.import_detail(
                    level=level or 0,
                    asname=expr_text(asname) if isinstance(asname, cst.Name) else None,
                    dynamic=None,
                ),
            )
            self.place(row, alias)

    def visit_import_star(self, node: cst.ImportStar, ctx: _Ctx) -> None:
        # `*` has no syntactic-position hook in libcst: its span is its one token.
        for ordinal in self.syntactic.pop(id(node), ()):
            self.spans[ordinal] = [self.offset, self.offset + 1]

    def visit_declaration(self, node: cst.Global | cst.Nonlocal, ctx: _Ctx) -> None:
        kind = "global" if isinstance(node, cst.Global) else "nonlocal"
        for item in node.names:
            self.place(self.emit(ctx, kind, _UNPLACED, name=ident(item.name.value)), node)

    # -- flags ------------------------------------------------------------------------------

    def visit_try(self, node: cst.Try | cst.TryStar, ctx: _Ctx) -> None:
        inner = ctx.enter_try()
        self.pending[id(node.body)] = inner
        for handler in node.handlers:
            self.pending[id(handler)] = inner

    def visit_if(self, node: cst.If, ctx: _Ctx) -> None:
        self.pending[id(node.body)] = ctx.enter_if(expr_text(node.test))
        if node.orelse is not None:
            self.pending[id(node.orelse)] = ctx.enter_else()


def _string_argument(arg: cst.Arg) -> str | None:
    return string_value(arg.value) if not arg.star else None


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


NESTING_TOO_DEEP: Final = "EXTRACT_NESTING_TOO_DEEP"

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


# libcst's native (Rust) parser recurses once per nested bracket on the thread's stack: it
# parses 1,200 levels and dies with SIGSEGV near 1,500, taking the worker with it. CPython
# itself refuses more than 200 levels, so nothing a real file holds is lost by this limit.
MAX_BRACKET_DEPTH: Final = 1000
_BRACKETS: Final = re.compile(r"[^()\[\]{}]+")
_OPEN: Final = frozenset("([{")


def bracket_depth_exceeds(text: str, limit: int = MAX_BRACKET_DEPTH) -> bool:
    """Whether brackets nest deeper than ``limit`` outside strings and comments.

    Cheap for real files: fewer opening brackets than the limit cannot nest deeper (one
    C-level count per kind). Otherwise the raw depth of the bracket characters is computed,
    and only when that exceeds the limit is it confirmed with the tokenizer, which ignores
    brackets in strings and comments (a long ``"((((("`` literal is not nesting).
    """
    if text.count("(") + text.count("[") + text.count("{") <= limit:
        return False
    brackets = _BRACKETS.sub("", text)
    steps = accumulate(1 if ch in _OPEN else -1 for ch in brackets)
    if max(steps, default=0) <= limit:
        return False
    depth = 0
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            if token.type == tokenize.OP and token.string in _OPEN:
                depth += 1
                if depth > limit:
                    return True
            elif token.type == tokenize.OP and token.string in (")", "]", "}"):
                depth -= 1
    except (tokenize.TokenError, SyntaxError):
        return True  # the raw count said too deep and the tokenizer cannot say otherwise
    return False


MAX_OPERATORS_PER_STATEMENT: Final = 2000
"""libcst's parser takes time super-linear in the length of an operator chain (2,000 terms
1.5 s, 5,000 terms 8 s, 100,000 terms an hour): one statement longer than this is not given to
it. Real code stays far below (a long literal table has commas, which do not count)."""
_BINARY_OPS: Final = frozenset(
    {"+", "-", "*", "/", "//", "%", "@", "**", "<<", ">>", "&", "|", "^"}
    | {"<", ">", "<=", ">=", "==", "!=", "and", "or", "not", "in", "is"}
)
_OPERATOR_CHARS: Final = re.compile(r"[-+*/%@&|^<>=!]|\band\b|\bor\b")


def operator_chain_exceeds(text: str, limit: int = MAX_OPERATORS_PER_STATEMENT) -> bool:
    """Whether one statement holds more than ``limit`` binary or boolean operators.

    Cheap for real files: fewer operator characters in the whole file than the limit cannot
    make such a statement (one regex count); otherwise the tokenizer counts per statement.
    """
    if sum(1 for _ in islice(_OPERATOR_CHARS.finditer(text), limit + 1)) <= limit:
        return False
    count = 0
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            if token.type == tokenize.NEWLINE:
                count = 0
            elif token.string in _BINARY_OPS and token.type in (tokenize.OP, tokenize.NAME):
                count += 1
                if count > limit:
                    return True
    except (tokenize.TokenError, SyntaxError):
        return False  # libcst reports the syntax error itself
    return False


def _not_run(message: str, limit: int) -> FileResult:
    warning = FileWarning(
        code=NESTING_TOO_DEEP,
        message=f"{message}; libcst not run",
        detail=encode_detail({"limit": limit}),
    )
    return FileResult(rows=[], warnings=[warning])


def extract(source: SourceFile) -> FileResult:
    """The ``cst`` rows of one file, or a syntax/recursion warning and no rows."""
    if bracket_depth_exceeds(source.text):
        return _not_run(f"brackets nested more than {MAX_BRACKET_DEPTH} deep", MAX_BRACKET_DEPTH)
    if operator_chain_exceeds(source.text):
        limit = MAX_OPERATORS_PER_STATEMENT
        return _not_run(f"a statement of more than {limit} operators", limit)
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
    offsets = Offsets(source, generated)
    if not offsets.valid:
        for row in rows:
            row.update(NULL_SPAN)
        message = "libcst did not reproduce the source text; spans are null"
        return FileResult(rows=rows, warnings=[FileWarning(code=SPAN_UNMAPPED, message=message)])
    lines = source.lines
    for row in rows:
        position = codegen.spans.get(row["ordinal"])
        if row["kind"] == "module":
            row.update(lines.span(0, lines.total_bytes))
        elif position is None or position[0] < 0:
            row.update(NULL_SPAN)
        else:
            row.update(lines.span(offsets.start(position[0]), offsets.end(position[1])))
    return FileResult(rows=rows, warnings=[])
