"""Facts the ``tree_sitter`` extractor reads off tree-sitter nodes and the bytes under them:
*expr text*, string literals, docstrings, ``__all__``, ``global`` declarations, import names
and where a definition ends (CONTRACT.md §5.2); identifiers NFKC-normalized as the
interpreter sees them."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from typing import Final

from tree_sitter import Node

from backends.extract.syntax_common import literal_all
from backends.extract.syntax_scope import ident

# Statements whose end is their last token (a trailing `;` included), as CPython ends them.
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


def named(node: Node) -> list[Node]:
    """Named children without extras (comments, backslash continuations)."""
    return [c for c in node.named_children if c.type not in _EXTRAS]


def unparen(node: Node | None) -> Node | None:
    """The expression inside any parentheses (or a ``type`` wrapper), None if not one."""
    while node is not None and node.type in ("parenthesized_expression", "type"):
        inner = named(node)
        node = inner[0] if len(inner) == 1 else None
    return node


class NodeText:
    """Reads the facts of the nodes of one parsed file, from its canonical bytes."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def text(self, node: Node) -> str:
        """The source text of a node."""
        return self.data[node.start_byte : node.end_byte].decode("utf-8", "replace")

    def expr_text(self, node: Node | None) -> str | None:
        """§5.2 *expr text*: a dotted chain of names (optionally from ``super()``), else None."""
        parts: list[str] = []
        node = unparen(node)
        while node is not None:
            if node.type == "attribute":
                attr = node.child_by_field_name("attribute")
                if attr is None:
                    return None
                parts.append(ident(self.text(attr)))
                node = unparen(node.child_by_field_name("object"))
            elif node.type == "identifier":
                parts.append(ident(self.text(node)))
                return ".".join(reversed(parts))
            elif parts and node.type == "call" and self.is_bare_super(node):
                parts.append("super()")
                return ".".join(reversed(parts))
            else:
                return None
        return None

    def is_bare_super(self, call: Node) -> bool:
        """Whether a call is ``super()`` without arguments."""
        func = unparen(call.child_by_field_name("function"))
        args = call.child_by_field_name("arguments")
        return (
            func is not None
            and func.type == "identifier"
            and self.text(func) == "super"
            and args is not None
            and args.type == "argument_list"
            and not named(args)
        )

    def base_text(self, node: Node) -> str | None:
        """A base class: ``Generic[T]`` is written ``Generic``."""
        inner = unparen(node)
        if inner is not None and inner.type == "subscript":
            inner = inner.child_by_field_name("value")
        return self.expr_text(inner)

    def decorators(self, definition: Node) -> list[str | None]:
        """The decorators of a def/class: ``@app.route("/")`` is written ``app.route``."""
        parent = definition.parent
        if parent is None or parent.type != "decorated_definition":
            return []
        texts: list[str | None] = []
        for decorator in parent.named_children:
            if decorator.type != "decorator":
                continue
            inner = unparen(named(decorator)[0]) if named(decorator) else None
            if inner is not None and inner.type == "call":
                inner = inner.child_by_field_name("function")
            texts.append(None if inner is None else self.base_text(inner))
        return texts

    def string_value(self, node: Node | None) -> str | None:
        """The value of a plain ``str`` literal (no f-/b-/t-prefix), else None."""
        node = unparen(node)
        if node is None or node.type not in _STRINGS:
            return None
        parts = [node] if node.type == "string" else named(node)
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
        """Whether a module, class or function body starts with a string literal."""
        first = named(body)[:1] if body is not None else []
        if not first or first[0].type != "expression_statement":
            return False
        inner = named(first[0])
        return len(inner) == 1 and self.string_value(inner[0]) is not None

    def string_list(self, node: Node | None) -> list[str] | None:
        """The strings of a list/tuple display of string literals, else None."""
        if node is None or node.type not in ("list", "tuple", "expression_list"):
            return None
        values = [self.string_value(e) for e in named(node)]
        strings = [v for v in values if v is not None]
        return strings if len(strings) == len(values) else None

    def all_bindings(self, root: Node) -> Iterator[tuple[bool, list[str] | None]]:
        """The module-level bindings of ``__all__`` (see :func:`literal_all`)."""
        for stmt in named(root):
            inner = named(stmt) if stmt.type == "expression_statement" else []
            node = inner[0] if len(inner) == 1 else None
            if node is None:
                continue
            if node.type == "assignment":
                # `__all__ = x = [...]`: every left side of the chain is a target.
                targets = []
                while node is not None and node.type == "assignment":
                    targets.append(node.child_by_field_name("left"))
                    value = node.child_by_field_name("right")
                    node = value
                if value is not None and any(
                    t is not None and self.text(t) == "__all__" for t in targets
                ):
                    yield False, self.string_list(value)
            elif node.type == "augmented_assignment":
                left = node.child_by_field_name("left")
                op = node.child_by_field_name("operator")
                if left is None or self.text(left) != "__all__" or op is None:
                    continue
                if self.text(op) == "+=":
                    yield True, self.string_list(node.child_by_field_name("right"))

    def module_all(self, root: Node) -> list[str] | None:
        """Literal ``__all__`` of the module body; None when absent or not a literal."""
        return literal_all(self.all_bindings(root))

    def declared_globals(self, body: Node) -> frozenset[str]:
        """Names declared ``global`` directly in a def/class body (not in nested scopes)."""
        names: set[str] = set()
        stack = [body]
        while stack:
            for child in stack.pop().named_children:
                if child.type == "global_statement":
                    names.update(ident(self.text(n)) for n in named(child))
                elif child.type in _STATEMENT_CONTAINERS:
                    stack.append(child)
        return frozenset(names)

    def dotted(self, node: Node) -> str:
        """A dotted module name."""
        return ".".join(ident(self.text(n)) for n in named(node))

    def import_alias(self, alias: Node) -> tuple[str, str | None]:
        """(dotted name, asname) of a ``dotted_name`` or ``aliased_import``."""
        if alias.type == "aliased_import":
            name = alias.child_by_field_name("name")
            asname = alias.child_by_field_name("alias")
            return (
                self.dotted(name) if name is not None else "",
                ident(self.text(asname)) if asname is not None else None,
            )
        return self.dotted(alias), None


def def_end(node: Node, body: Node | None) -> int:
    """End of the last body statement as CPython reports it (comments excluded)."""
    statements = named(body) if body is not None else []
    if not statements:
        return node.end_byte
    last = statements[-1]
    if last.type not in _COMPOUND:
        return last.end_byte
    # A compound statement ends at its last token, a trailing `;` included.
    while True:
        children = [c for c in last.children if c.type != "comment" and c.end_byte > c.start_byte]
        if not children:
            return last.end_byte
        last = children[-1]
