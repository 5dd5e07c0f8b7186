"""Stage-0 ``tree_sitter`` extractor: normalized syntax rows (CONTRACT.md §5.2) from tree-sitter.

tree-sitter parses the canonical UTF-8 bytes and always yields a tree, so a file with syntax
errors still gives rows: its ERROR and MISSING nodes become ``error`` rows (``is_error``) and
one EXTRACT_PARTIAL_PARSE warning. The walk is a pre-order, source-order walk with an explicit
stack (hostile files nest deeply); node byte offsets are canonical offsets as they are.

Semantics shared with the ``ast`` and ``cst`` extractors, so that rows reconcile one to one
(the scope, qualname and import-flag rules live in :mod:`backends.extract.syntax_scope`, the
reading of node facts in :mod:`backends.extract.tree_sitter_facts`):
- qualnames follow CPython: comprehensions are a qualname level without ``<locals>``, and a
  def/class declared ``global`` in its enclosing def/class gets its bare name; identifiers are
  NFKC-normalized as the interpreter does;
- decorators, bases, class keywords, defaults and annotations belong to the enclosing scope;
  parameters and the body to the definition;
- a definition ends where CPython ends its last body statement (a compound last statement
  keeps a trailing ``;``, a simple one does not); trailing comments are never included;
- import flags are lexical (every enclosing ``try``/``if`` counts, even across a def).
"""

from __future__ import annotations

from typing import Any, Final

import tree_sitter_python
from tree_sitter import Language, Node, Parser

from backends.contract.schemas import SPAN_COLUMNS
from backends.extract.registry import PER_FILE_VERSIONS
from backends.extract.result import FileResult, FileWarning
from backends.extract.source import SourceFile
from backends.extract.syntax_common import encode_detail
from backends.extract.syntax_scope import ScopeCtx, ScopedRows, ident
from backends.extract.tree_sitter_facts import NodeText, def_end, named

NAME: Final = "tree_sitter"
VERSION: Final = PER_FILE_VERSIONS["tree_sitter"]

_LANGUAGE: Final = Language(tree_sitter_python.language())
_PARSER: Final = Parser(_LANGUAGE)

_COMPREHENSIONS: Final = {
    "list_comprehension": "<listcomp>",
    "set_comprehension": "<setcomp>",
    "dictionary_comprehension": "<dictcomp>",
    "generator_expression": "<genexpr>",
}
_Ctx = ScopeCtx[Node]


class _Walker(NodeText, ScopedRows[Node]):
    """Emits the rows of one file; holds the per-file state of the walk."""

    def __init__(self, source: SourceFile) -> None:
        NodeText.__init__(self, source.data)
        ScopedRows.__init__(self)
        self.lines = source.lines
        self.errors = 0
        # Contexts that differ from the parent's, by node id, set before the node is reached.
        self.override: dict[int, _Ctx] = {}

    def body_key(self, body: Node) -> int:
        # Node objects are made on access: the id of the tree's node, not of the object.
        return body.id

    def span(self, node: Node) -> dict[str, int]:
        return self.lines.span(node.start_byte, node.end_byte)

    # -- the walk ---------------------------------------------------------------------------

    def walk(self, root: Node) -> None:
        module = self.emit(
            None,
            "module",
            self.lines.span(0, len(self.data)),
            qualname="",
            detail={"all": self.module_all(root), "docstring": self.has_docstring(root)},
        )
        stack: list[tuple[Node, _Ctx]] = [(root, _Ctx.module(module))]
        override = self.override
        pop = override.pop
        while stack:
            node, ctx = stack.pop()
            if node.has_error:
                if node.is_missing:
                    self.error_row(node, ctx, "MISSING")
                    continue
                children = node.children  # MISSING tokens are anonymous
            elif node.named_child_count:
                children = node.named_children
            else:
                continue  # a leaf: no rows
            handler = _HANDLERS.get(node.type)
            if handler is not None:
                handler(self, node, ctx)
            stack.extend([(child, pop(child.id, ctx)) for child in reversed(children)])
        for row in self.rows:
            row["is_error"] = row["kind"] == "error"

    def error_row(self, node: Node, ctx: _Ctx, expr: str) -> None:
        self.errors += 1
        self.emit(ctx, "error", self.span(node), expr=expr)

    def visit_error(self, node: Node, ctx: _Ctx) -> None:
        self.error_row(node, ctx, "ERROR")

    # -- definitions ------------------------------------------------------------------------

    def definition(self, node: Node, kind: str, ctx: _Ctx, **detail: Any) -> _Ctx:
        """Emit the row of a def/class, ending at its last statement; return its body's ctx."""
        name_node = node.child_by_field_name("name")
        body = node.child_by_field_name("body")
        name = ident(self.text(name_node)) if name_node is not None else ""
        qualname = self.def_qualname(name, ctx)
        ordinal = self.emit(
            ctx,
            kind,
            self.lines.span(node.start_byte, def_end(node, body)),
            name=name,
            qualname=qualname,
            detail={
                **detail,
                "decorators": self.decorators(node),
                "docstring": self.has_docstring(body),
            },
        )
        inner = ctx.enter(kind, qualname, ordinal, body)
        if body is not None:
            self.override[body.id] = inner
        return inner

    def visit_function(self, node: Node, ctx: _Ctx) -> None:
        is_async = bool(node.children) and node.children[0].type == "async"
        inner = self.definition(
            node, "function", ctx, is_async=is_async, is_method=ctx.in_class_body
        )
        self.parameters(node.child_by_field_name("parameters"), inner)

    def visit_class(self, node: Node, ctx: _Ctx) -> None:
        bases: list[str | None] = []
        keywords: dict[str, str | None] = {}
        superclasses = node.child_by_field_name("superclasses")
        for arg in named(superclasses) if superclasses is not None else []:
            if arg.type == "keyword_argument":
                key = arg.child_by_field_name("name")
                value = arg.child_by_field_name("value")
                keywords[ident(self.text(key)) if key else ""] = self.expr_text(value)
            elif arg.type == "dictionary_splat":
                keywords["**"] = self.expr_text(named(arg)[0] if named(arg) else None)
            elif arg.type == "list_splat":
                bases.append(None)
            else:
                bases.append(self.base_text(arg))
        self.definition(node, "class", ctx, bases=bases, keywords=keywords)

    def visit_lambda(self, node: Node, ctx: _Ctx) -> None:
        qualname = ctx.qual_prefix + "<lambda>"
        ordinal = self.emit(ctx, "lambda", self.span(node), name="<lambda>", qualname=qualname)
        inner = ctx.enter("lambda", qualname, ordinal, None)
        self.parameters(node.child_by_field_name("parameters"), inner)
        body = node.child_by_field_name("body")
        if body is not None:
            self.override[body.id] = inner

    def visit_comprehension(self, node: Node, ctx: _Ctx) -> None:
        # Its first iterable is evaluated in the enclosing scope.
        inner = ctx.enter_comprehension(_COMPREHENSIONS[node.type])
        first = True
        for child in node.named_children:
            self.override[child.id] = inner
            if first and child.type == "for_in_clause":
                first = False
                right = child.child_by_field_name("right")
                if right is not None:
                    self.override[right.id] = ctx

    def parameters(self, params: Node | None, inner: _Ctx) -> None:
        """Parameter rows (in ``inner``); their annotations and defaults are walked later,
        in the enclosing scope, as children of the parameters node."""
        if params is None:
            return
        entries: list[tuple[Node, str, bool, Node | None]] = []
        kind = "positional"
        for param in named(params):
            ptype = param.type
            if ptype == "positional_separator":
                entries = [(n, "posonly", d, a) for n, _, d, a in entries]
                continue
            if ptype == "keyword_separator":
                kind = "kwonly"
                continue
            annotation = param.child_by_field_name("type")
            has_default = ptype in ("default_parameter", "typed_default_parameter")
            target = param.child_by_field_name("name") if has_default else param
            if ptype == "typed_parameter":
                target = next((c for c in param.named_children if c.type != "type"), None)
            if target is None:
                continue
            if target.type == "list_splat_pattern":
                entries.append((named(target)[0], "vararg", False, annotation))
                kind = "kwonly"
            elif target.type == "dictionary_splat_pattern":
                entries.append((named(target)[0], "kwarg", False, annotation))
            elif target.type == "identifier":
                entries.append((target, kind, has_default, annotation))
        for index, (name, pkind, has_default, annotation) in enumerate(entries):
            self.emit(
                inner,
                "parameter",
                self.span(name),
                name=ident(self.text(name)),
                expr=self.expr_text(annotation),
                detail={"kind": pkind, "index": index, "has_default": has_default},
            )

    # -- calls, imports, declarations -------------------------------------------------------

    def visit_call(self, node: Node, ctx: _Ctx) -> None:
        callee = self.expr_text(node.child_by_field_name("function"))
        args = node.child_by_field_name("arguments")
        positional: list[Node] = []
        nkeywords = 0
        if args is not None and args.type == "generator_expression":
            positional = [args]
        elif args is not None:
            for arg in named(args):
                if arg.type in ("keyword_argument", "dictionary_splat"):
                    nkeywords += 1
                else:
                    positional.append(arg)
        self.emit_call(
            ctx,
            self.span(node),
            callee,
            nargs=len(positional),
            nkeywords=nkeywords,
            first=positional[0] if positional else None,
            literal=self.string_value,
        )

    def visit_type_alias(self, node: Node, ctx: _Ctx) -> None:
        # tree-sitter-python 0.25 reads `type(x).attr = v` as a `type X = v` alias statement
        # (without an ERROR). A real alias names an identifier after `type`; a `(` there is a
        # call of the builtin `type`, which the other parsers report: restore that call row.
        keyword = node.children[0] if node.children else None
        if keyword is None or keyword.type != "type":
            return
        if not self.data[keyword.end_byte : node.end_byte].lstrip().startswith(b"("):
            return
        args: Node | None = node.child_by_field_name("left")
        while args is not None and args.type not in ("parenthesized_expression", "tuple"):
            args = named(args)[0] if named(args) else None
        if args is None or args.start_byte < keyword.end_byte:
            return
        nargs = len(named(args)) if args.type == "tuple" else 1
        self.emit(
            ctx,
            "call",
            self.lines.span(keyword.start_byte, args.end_byte),
            name="type",
            expr="type",
            detail={"nargs": nargs, "nkeywords": 0},
        )

    def visit_import(self, node: Node, ctx: _Ctx) -> None:
        module: str | None = None
        level = 0
        if node.type == "import_from_statement":
            source = node.child_by_field_name("module_name")
            if source is not None and source.type == "relative_import":
                for part in named(source):
                    if part.type == "import_prefix":
                        level = self.text(part).count(".")
                    elif part.type == "dotted_name":
                        module = self.dotted(part)
            elif source is not None:
                module = self.dotted(source)
        elif node.type == "future_import_statement":
            module = "__future__"
        for alias in node.children_by_field_name("name"):
            dotted, asname = self.import_alias(alias)
            name: str | None = dotted
            if node.type == "import_statement":
                name, module = None, dotted
            detail = ctx.import_detail(level=level, asname=asname, dynamic=None)
            self.emit(ctx, "import", self.span(alias), name=name, expr=module, detail=detail)
        for star in node.named_children:
            if star.type == "wildcard_import":
                detail = ctx.import_detail(level=level, asname=None, dynamic=None)
                self.emit(ctx, "import", self.span(star), name="*", expr=module, detail=detail)

    def visit_declaration(self, node: Node, ctx: _Ctx) -> None:
        kind = "global" if node.type == "global_statement" else "nonlocal"
        for name in named(node):
            if name.type == "identifier":
                self.emit(ctx, kind, self.span(node), name=ident(self.text(name)))

    # -- flags ------------------------------------------------------------------------------

    def visit_try(self, node: Node, ctx: _Ctx) -> None:
        inner = ctx.enter_try()
        for child in node.named_children:
            if child.type in ("block", "except_clause", "except_group_clause"):
                self.override[child.id] = inner

    def visit_if(self, node: Node, ctx: _Ctx) -> None:
        body = node.child_by_field_name("consequence")
        if body is not None:
            self.override[body.id] = ctx.enter_if(
                self.expr_text(node.child_by_field_name("condition"))
            )
        for alternative in node.children_by_field_name("alternative"):
            self.override[alternative.id] = ctx.enter_else()


_HANDLERS: Final = {
    "function_definition": _Walker.visit_function,
    "class_definition": _Walker.visit_class,
    "lambda": _Walker.visit_lambda,
    "call": _Walker.visit_call,
    "import_statement": _Walker.visit_import,
    "import_from_statement": _Walker.visit_import,
    "future_import_statement": _Walker.visit_import,
    "global_statement": _Walker.visit_declaration,
    "nonlocal_statement": _Walker.visit_declaration,
    "try_statement": _Walker.visit_try,
    "if_statement": _Walker.visit_if,
    "elif_clause": _Walker.visit_if,
    "type_alias_statement": _Walker.visit_type_alias,
    "ERROR": _Walker.visit_error,
    **dict.fromkeys(_COMPREHENSIONS, _Walker.visit_comprehension),
}


def extract(source: SourceFile) -> FileResult:
    """The ``tree_sitter`` rows of one file; ERROR/MISSING nodes become ``error`` rows."""
    tree = _PARSER.parse(source.data)
    walker = _Walker(source)
    walker.walk(tree.root_node)
    warnings: list[FileWarning] = []
    if tree.root_node.has_error:
        first = next((r for r in walker.rows if r["is_error"]), None)
        position = {k: first[k] for k in SPAN_COLUMNS} if first is not None else {}
        warnings.append(
            FileWarning(
                code="EXTRACT_PARTIAL_PARSE",
                message=f"tree-sitter recovered from {walker.errors} ERROR/MISSING node(s)",
                detail=encode_detail({"errors": walker.errors}),
                **position,
            )
        )
    return FileResult(rows=walker.rows, warnings=warnings)
