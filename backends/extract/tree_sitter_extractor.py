"""Stage-0 ``tree_sitter`` extractor: normalized syntax rows (CONTRACT.md §5.2) from tree-sitter.

tree-sitter parses the canonical UTF-8 bytes and always yields a tree, so a file with syntax
errors still gives rows: its ERROR and MISSING nodes become ``error`` rows (``is_error``) and
one EXTRACT_PARTIAL_PARSE warning. The walk is a pre-order, source-order walk with an explicit
stack (hostile files nest deeply); node byte offsets are canonical offsets as they are.

Semantics shared with the ``ast`` and ``cst`` extractors, so that rows reconcile one to one:
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

import ast
import unicodedata
from dataclasses import dataclass, replace
from typing import Any, Final

import tree_sitter_python
from tree_sitter import Language, Node, Parser

from backends.contract.schemas import SPAN_COLUMNS
from backends.extract.result import FileResult, FileWarning
from backends.extract.source import SourceFile
from backends.extract.syntax_common import encode_detail

NAME: Final = "tree_sitter"
VERSION: Final = "1"

_LANGUAGE: Final = Language(tree_sitter_python.language())
_PARSER: Final = Parser(_LANGUAGE)

_DYNAMIC_IMPORTS: Final = {"importlib.import_module": "importlib", "__import__": "__import__"}
_TYPE_CHECKING: Final = frozenset({"TYPE_CHECKING", "typing.TYPE_CHECKING"})
_COMPREHENSIONS: Final = {
    "list_comprehension": "<listcomp>",
    "set_comprehension": "<setcomp>",
    "dictionary_comprehension": "<dictcomp>",
    "generator_expression": "<genexpr>",
}
_COMPOUND: Final = frozenset(
    {
        "if_statement",
        "for_statement",
        "while_statement",
        "try_statement",
        "with_statement",
        "function_definition",
        "class_definition",
        "decorated_definition",
        "match_statement",
    }
)
# Statement containers searched for `global` declarations of a def/class body.
_STATEMENT_CONTAINERS: Final = frozenset(
    {
        "block",
        "if_statement",
        "elif_clause",
        "else_clause",
        "for_statement",
        "while_statement",
        "try_statement",
        "except_clause",
        "except_group_clause",
        "finally_clause",
        "with_statement",
        "match_statement",
        "case_clause",
        "ERROR",
    }
)
_STRINGS: Final = frozenset({"string", "concatenated_string"})
_EXTRAS: Final = frozenset({"comment", "line_continuation"})


@dataclass(frozen=True, slots=True)
class _Ctx:
    """Where a node sits: its scope, the qualname prefix of definitions in it, import flags."""

    scope_qualname: str
    parent_ordinal: int
    qual_prefix: str  # prefix of a child definition's qualname: "", "C.", "f.<locals>."
    scope_kind: str  # module, class, function, lambda, comprehension
    scope_body: Node | None  # the def/class body holding `global` declarations
    in_class_body: bool = False
    in_try: bool = False
    in_type_checking: bool = False
    in_function: bool = False
    in_if: bool = False


def _ident(text: str) -> str:
    """An identifier as the interpreter sees it (PEP 3131: NFKC-normalized)."""
    return text if text.isascii() else unicodedata.normalize("NFKC", text)


def _named(node: Node) -> list[Node]:
    """Named children without extras (comments, backslash continuations)."""
    return [c for c in node.named_children if c.type not in _EXTRAS]


def _unparen(node: Node | None) -> Node | None:
    while node is not None and node.type in ("parenthesized_expression", "type"):
        inner = _named(node)
        node = inner[0] if len(inner) == 1 else None
    return node


class _Walker:
    """Emits the rows of one file; holds the per-file state of the walk."""

    def __init__(self, source: SourceFile) -> None:
        self.source = source
        self.data = source.data
        self.rows: list[dict[str, Any]] = []
        self.errors = 0
        # Contexts that differ from the parent's, by node id, set before the node is reached.
        self.override: dict[int, _Ctx] = {}
        self.globals_cache: dict[int, frozenset[str]] = {}

    # -- text -------------------------------------------------------------------------------

    def text(self, node: Node) -> str:
        return self.data[node.start_byte : node.end_byte].decode("utf-8", "replace")

    def expr_text(self, node: Node | None) -> str | None:
        """§5.2 *expr text*: a dotted chain of names (optionally from ``super()``), else None."""
        parts: list[str] = []
        node = _unparen(node)
        while node is not None:
            if node.type == "attribute":
                attr = node.child_by_field_name("attribute")
                if attr is None:
                    return None
                parts.append(_ident(self.text(attr)))
                node = _unparen(node.child_by_field_name("object"))
            elif node.type == "identifier":
                parts.append(_ident(self.text(node)))
                return ".".join(reversed(parts))
            elif parts and node.type == "call" and self.is_bare_super(node):
                parts.append("super()")
                return ".".join(reversed(parts))
            else:
                return None
        return None

    def is_bare_super(self, call: Node) -> bool:
        func = _unparen(call.child_by_field_name("function"))
        args = call.child_by_field_name("arguments")
        return (
            func is not None
            and func.type == "identifier"
            and self.text(func) == "super"
            and args is not None
            and args.type == "argument_list"
            and not _named(args)
        )

    def base_text(self, node: Node) -> str | None:
        """A base class: ``Generic[T]`` is written ``Generic``."""
        inner = _unparen(node)
        if inner is not None and inner.type == "subscript":
            inner = inner.child_by_field_name("value")
        return self.expr_text(inner)

    def decorator_text(self, node: Node) -> str | None:
        """A decorator: ``@app.route("/")`` is written ``app.route``."""
        inner = _unparen(node)
        if inner is not None and inner.type == "call":
            inner = inner.child_by_field_name("function")
        return None if inner is None else self.base_text(inner)

    def string_value(self, node: Node | None) -> str | None:
        """The value of a plain ``str`` literal (no f-/b-/t-prefix), else None."""
        node = _unparen(node)
        if node is None or node.type not in _STRINGS:
            return None
        parts = [node] if node.type == "string" else _named(node)
        for part in parts:
            start = part.children[0] if part.type == "string" and part.children else None
            if start is None or any(c in "fFbBtT" for c in self.text(start)):
                return None
        try:
            value = ast.literal_eval("(" + self.text(node) + ")")
        except (SyntaxError, ValueError, MemoryError, RecursionError):
            return None
        return value if isinstance(value, str) else None

    def has_docstring(self, body: Node | None) -> bool:
        first = _named(body)[:1] if body is not None else []
        if not first or first[0].type != "expression_statement":
            return False
        inner = _named(first[0])
        return len(inner) == 1 and self.string_value(inner[0]) is not None

    def string_list(self, node: Node | None) -> list[str] | None:
        """The strings of a list/tuple display of string literals, else None."""
        if node is None or node.type not in ("list", "tuple", "expression_list"):
            return None
        values = [self.string_value(e) for e in _named(node)]
        strings = [v for v in values if v is not None]
        return strings if len(strings) == len(values) else None

    def module_all(self, root: Node) -> list[str] | None:
        """Literal ``__all__`` of the module body; None when absent or not a literal."""
        known: list[str] | None = None
        unknown = False
        for stmt in _named(root):
            inner = _named(stmt) if stmt.type == "expression_statement" else []
            node = inner[0] if len(inner) == 1 else None
            if node is None:
                continue
            if node.type == "assignment":
                targets = []
                while node is not None and node.type == "assignment":
                    targets.append(node.child_by_field_name("left"))
                    value = node.child_by_field_name("right")
                    node = value
                if value is None or not any(
                    t is not None and self.text(t) == "__all__" for t in targets
                ):
                    continue
                known = self.string_list(value)
                unknown = known is None
            elif node.type == "augmented_assignment":
                left = node.child_by_field_name("left")
                op = node.child_by_field_name("operator")
                if left is None or self.text(left) != "__all__" or op is None:
                    continue
                if self.text(op) != "+=":
                    continue
                extra = self.string_list(node.child_by_field_name("right"))
                if extra is None:
                    unknown = True
                elif not unknown:
                    known = (known or []) + extra
        return None if unknown else known

    # -- rows -------------------------------------------------------------------------------

    def emit(
        self,
        ctx: _Ctx | None,
        kind: str,
        bstart: int,
        bend: int,
        *,
        name: str | None = None,
        qualname: str | None = None,
        expr: str | None = None,
        detail: dict[str, Any] | None = None,
        is_error: bool = False,
    ) -> int:
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
                **self.source.lines.span(bstart, bend),
                "is_error": is_error,
            }
        )
        return ordinal

    # -- the walk ---------------------------------------------------------------------------

    def walk(self, root: Node) -> None:
        module = self.emit(
            None,
            "module",
            0,
            len(self.data),
            qualname="",
            detail={"all": self.module_all(root), "docstring": self.has_docstring(root)},
        )
        stack: list[tuple[Node, _Ctx]] = [(root, _Ctx("", module, "", "module", None))]
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

    def error_row(self, node: Node, ctx: _Ctx, expr: str) -> None:
        self.errors += 1
        self.emit(ctx, "error", node.start_byte, node.end_byte, expr=expr, is_error=True)

    def visit_error(self, node: Node, ctx: _Ctx) -> None:
        self.error_row(node, ctx, "ERROR")

    def declared_globals(self, body: Node | None) -> frozenset[str]:
        """Names declared ``global`` directly in a def/class body (not in nested scopes)."""
        if body is None:
            return frozenset()
        cached = self.globals_cache.get(body.id)
        if cached is not None:
            return cached
        names: set[str] = set()
        stack = [body]
        while stack:
            for child in stack.pop().named_children:
                if child.type == "global_statement":
                    names.update(_ident(self.text(n)) for n in _named(child))
                elif child.type in _STATEMENT_CONTAINERS:
                    stack.append(child)
        result = frozenset(names)
        self.globals_cache[body.id] = result
        return result

    def def_qualname(self, name: str, ctx: _Ctx) -> str:
        # CPython: a def/class declared `global` in its enclosing def/class is not nested.
        if ctx.scope_kind in ("function", "class") and name in self.declared_globals(
            ctx.scope_body
        ):
            return name
        return ctx.qual_prefix + name

    def def_end(self, node: Node, body: Node | None) -> int:
        """End of the last body statement as CPython reports it (comments excluded)."""
        statements = _named(body) if body is not None else []
        if not statements:
            return node.end_byte
        last = statements[-1]
        if last.type not in _COMPOUND:
            return last.end_byte
        # A compound statement ends at its last token, a trailing `;` included.
        while True:
            children = [
                c for c in last.children if c.type != "comment" and c.end_byte > c.start_byte
            ]
            if not children:
                return last.end_byte
            last = children[-1]

    def decorators(self, node: Node) -> list[str | None]:
        parent = node.parent
        if parent is None or parent.type != "decorated_definition":
            return []
        return [
            self.decorator_text(_named(d)[0]) if _named(d) else None
            for d in parent.named_children
            if d.type == "decorator"
        ]

    def visit_function(self, node: Node, ctx: _Ctx) -> None:
        name_node = node.child_by_field_name("name")
        body = node.child_by_field_name("body")
        name = _ident(self.text(name_node)) if name_node is not None else ""
        qualname = self.def_qualname(name, ctx)
        ordinal = self.emit(
            ctx,
            "function",
            node.start_byte,
            self.def_end(node, body),
            name=name,
            qualname=qualname,
            detail={
                "is_async": bool(node.children) and node.children[0].type == "async",
                "decorators": self.decorators(node),
                "is_method": ctx.in_class_body,
                "docstring": self.has_docstring(body),
            },
        )
        inner = _Ctx(
            qualname,
            ordinal,
            qualname + ".<locals>.",
            "function",
            body,
            in_try=ctx.in_try,
            in_type_checking=ctx.in_type_checking,
            in_function=True,
            in_if=ctx.in_if,
        )
        self.parameters(node.child_by_field_name("parameters"), inner)
        if body is not None:
            self.override[body.id] = inner

    def visit_class(self, node: Node, ctx: _Ctx) -> None:
        name_node = node.child_by_field_name("name")
        body = node.child_by_field_name("body")
        name = _ident(self.text(name_node)) if name_node is not None else ""
        qualname = self.def_qualname(name, ctx)
        bases: list[str | None] = []
        keywords: dict[str, str | None] = {}
        superclasses = node.child_by_field_name("superclasses")
        for arg in _named(superclasses) if superclasses is not None else []:
            if arg.type == "keyword_argument":
                key = arg.child_by_field_name("name")
                value = arg.child_by_field_name("value")
                keywords[_ident(self.text(key)) if key else ""] = self.expr_text(value)
            elif arg.type == "dictionary_splat":
                keywords["**"] = self.expr_text(_named(arg)[0] if _named(arg) else None)
            elif arg.type == "list_splat":
                bases.append(None)
            else:
                bases.append(self.base_text(arg))
        ordinal = self.emit(
            ctx,
            "class",
            node.start_byte,
            self.def_end(node, body),
            name=name,
            qualname=qualname,
            detail={
                "bases": bases,
                "keywords": keywords,
                "decorators": self.decorators(node),
                "docstring": self.has_docstring(body),
            },
        )
        if body is not None:
            self.override[body.id] = _Ctx(
                qualname,
                ordinal,
                qualname + ".",
                "class",
                body,
                in_class_body=True,
                in_try=ctx.in_try,
                in_type_checking=ctx.in_type_checking,
                in_function=ctx.in_function,
                in_if=ctx.in_if,
            )

    def visit_lambda(self, node: Node, ctx: _Ctx) -> None:
        qualname = ctx.qual_prefix + "<lambda>"
        ordinal = self.emit(
            ctx, "lambda", node.start_byte, node.end_byte, name="<lambda>", qualname=qualname
        )
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
        self.parameters(node.child_by_field_name("parameters"), inner)
        body = node.child_by_field_name("body")
        if body is not None:
            self.override[body.id] = inner

    def visit_comprehension(self, node: Node, ctx: _Ctx) -> None:
        # A comprehension is a CPython scope of its own: it shows in the qualname of a
        # lambda inside it, but not in scope_qualname. Its first iterable is evaluated in
        # the enclosing scope.
        inner = replace(
            ctx,
            qual_prefix=ctx.qual_prefix + _COMPREHENSIONS[node.type] + ".",
            scope_kind="comprehension",
            scope_body=None,
            in_class_body=False,
        )
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
        for param in _named(params):
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
                entries.append((_named(target)[0], "vararg", False, annotation))
                kind = "kwonly"
            elif target.type == "dictionary_splat_pattern":
                entries.append((_named(target)[0], "kwarg", False, annotation))
            elif target.type == "identifier":
                entries.append((target, kind, has_default, annotation))
        for index, (name, pkind, has_default, annotation) in enumerate(entries):
            self.emit(
                inner,
                "parameter",
                name.start_byte,
                name.end_byte,
                name=_ident(self.text(name)),
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
            for arg in _named(args):
                if arg.type in ("keyword_argument", "dictionary_splat"):
                    nkeywords += 1
                else:
                    positional.append(arg)
        self.emit(
            ctx,
            "call",
            node.start_byte,
            node.end_byte,
            name=callee.rsplit(".", 1)[-1] if callee else None,
            expr=callee,
            detail={"nargs": len(positional), "nkeywords": nkeywords},
        )
        dynamic = _DYNAMIC_IMPORTS.get(callee or "")
        module = self.string_value(positional[0]) if dynamic and positional else None
        if dynamic is not None and module is not None:
            self.emit(
                ctx,
                "import",
                node.start_byte,
                node.end_byte,
                expr=module,
                detail=_import_detail(ctx, level=0, asname=None, dynamic=dynamic),
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
            args = _named(args)[0] if _named(args) else None
        if args is None or args.start_byte < keyword.end_byte:
            return
        nargs = len(_named(args)) if args.type == "tuple" else 1
        self.emit(
            ctx,
            "call",
            keyword.start_byte,
            args.end_byte,
            name="type",
            expr="type",
            detail={"nargs": nargs, "nkeywords": 0},
        )

    def dotted(self, node: Node) -> str:
        return ".".join(_ident(self.text(n)) for n in _named(node))

    def import_alias(self, alias: Node) -> tuple[str, str | None]:
        """(dotted name, asname) of a ``dotted_name`` or ``aliased_import``."""
        if alias.type == "aliased_import":
            name = alias.child_by_field_name("name")
            asname = alias.child_by_field_name("alias")
            return (
                self.dotted(name) if name is not None else "",
                _ident(self.text(asname)) if asname is not None else None,
            )
        return self.dotted(alias), None

    def visit_import(self, node: Node, ctx: _Ctx) -> None:
        module: str | None = None
        level = 0
        if node.type == "import_from_statement":
            source = node.child_by_field_name("module_name")
            if source is not None and source.type == "relative_import":
                for part in _named(source):
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
            self.emit(
                ctx,
                "import",
                alias.start_byte,
                alias.end_byte,
                name=name,
                expr=module,
                detail=_import_detail(ctx, level=level, asname=asname, dynamic=None),
            )
        for star in node.named_children:
            if star.type == "wildcard_import":
                self.emit(
                    ctx,
                    "import",
                    star.start_byte,
                    star.end_byte,
                    name="*",
                    expr=module,
                    detail=_import_detail(ctx, level=level, asname=None, dynamic=None),
                )

    def visit_declaration(self, node: Node, ctx: _Ctx) -> None:
        kind = "global" if node.type == "global_statement" else "nonlocal"
        for name in _named(node):
            if name.type == "identifier":
                self.emit(ctx, kind, node.start_byte, node.end_byte, name=_ident(self.text(name)))

    # -- flags ------------------------------------------------------------------------------

    def visit_try(self, node: Node, ctx: _Ctx) -> None:
        inner = replace(ctx, in_try=True)
        for child in node.named_children:
            if child.type in ("block", "except_clause", "except_group_clause"):
                self.override[child.id] = inner

    def visit_if(self, node: Node, ctx: _Ctx) -> None:
        guard = self.expr_text(node.child_by_field_name("condition")) in _TYPE_CHECKING
        body = node.child_by_field_name("consequence")
        if body is not None:
            self.override[body.id] = replace(
                ctx, in_if=True, in_type_checking=ctx.in_type_checking or guard
            )
        for alternative in node.children_by_field_name("alternative"):
            self.override[alternative.id] = replace(ctx, in_if=True)


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
