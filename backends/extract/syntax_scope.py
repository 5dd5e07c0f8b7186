"""Where a syntax row sits, decided once for the ``ast``, ``cst`` and ``tree_sitter`` extractors.

The three parsers walk different trees, but the scope of a row, the qualname of a definition
and the flags of an import follow the same rules for all of them (CONTRACT.md §5.2), so that
their rows reconcile one to one:
- qualnames follow CPython: functions and lambdas add ``<locals>``, comprehensions are a
  qualname level without it, and a def/class declared ``global`` in its enclosing def/class
  gets its bare name;
- identifiers are NFKC-normalized, as the interpreter does (PEP 3131);
- import flags are lexical: every enclosing ``try``/``if`` counts, even across a def.

:class:`ScopeCtx` is the record a walker hands down to the children of a node;
:class:`ScopedRows` holds the rows of one file and applies the qualname rule.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any, Final, Generic, TypeVar

from backends.extract.syntax_common import encode_detail

# Calls that import the module named by their first (literal) argument, and how §5.2 names them.
DYNAMIC_IMPORTS: Final[Mapping[str, str]] = {
    "importlib.import_module": "importlib",
    "__import__": "__import__",
}
# The *expr text* of an ``if`` test that guards imports needed only by type checkers.
TYPE_CHECKING_GUARDS: Final = frozenset({"TYPE_CHECKING", "typing.TYPE_CHECKING"})

# The parser's node for a def/class body: where its `global` declarations are looked up.
BodyT = TypeVar("BodyT")
ArgT = TypeVar("ArgT")


def ident(text: str) -> str:
    """An identifier as the interpreter sees it (PEP 3131: NFKC-normalized)."""
    return text if text.isascii() else unicodedata.normalize("NFKC", text)


@dataclass(frozen=True, slots=True)
class ScopeCtx(Generic[BodyT]):
    """Where a node sits: its scope, the qualname prefix of definitions in it, import flags."""

    scope_qualname: str
    parent_ordinal: int
    qual_prefix: str  # prefix of a child definition's qualname: "", "C.", "f.<locals>."
    scope_kind: str  # module, class, function, lambda, comprehension
    scope_body: BodyT | None  # the def/class body holding `global` declarations
    in_class_body: bool = False
    in_try: bool = False
    in_type_checking: bool = False
    in_function: bool = False
    in_if: bool = False

    @classmethod
    def module(cls, ordinal: int) -> ScopeCtx[BodyT]:
        """The context of the statements of a module whose row is ``ordinal``."""
        return cls("", ordinal, "", "module", None)

    def enter(self, kind: str, qualname: str, ordinal: int, body: BodyT | None) -> ScopeCtx[BodyT]:
        """The context of the body of a class, function or lambda row emitted in this one."""
        return ScopeCtx(
            qualname,
            ordinal,
            # CPython: functions and lambdas add "<locals>" to their children's qualnames.
            qualname + ("." if kind == "class" else ".<locals>."),
            kind,
            body,
            in_class_body=kind == "class",
            in_try=self.in_try,
            in_type_checking=self.in_type_checking,
            in_function=self.in_function or kind != "class",
            in_if=self.in_if,
        )

    def enter_comprehension(self, name: str) -> ScopeCtx[BodyT]:
        """The context of a comprehension (``name`` is ``<listcomp>``, ...).

        A comprehension is a CPython scope of its own: it shows in the qualname of a lambda
        inside it, but not in scope_qualname (§5.2 counts class/function/lambda).
        """
        return replace(
            self,
            qual_prefix=self.qual_prefix + name + ".",
            scope_kind="comprehension",
            scope_body=None,
            in_class_body=False,
        )

    def enter_try(self) -> ScopeCtx[BodyT]:
        """The context of the body and handlers of a ``try`` (not its else/finally)."""
        return replace(self, in_try=True)

    def enter_if(self, test: str | None) -> ScopeCtx[BodyT]:
        """The context of the body of an ``if``/``elif`` whose test has *expr text* ``test``."""
        guard = self.in_type_checking or test in TYPE_CHECKING_GUARDS
        return replace(self, in_if=True, in_type_checking=guard)

    def enter_else(self) -> ScopeCtx[BodyT]:
        """The context of the ``elif``/``else`` branches of an ``if``."""
        return replace(self, in_if=True)

    def import_detail(self, *, level: int, asname: str | None, dynamic: str | None) -> Any:
        """The ``detail`` of an import row emitted in this context (§5.2)."""
        return {
            "level": level,
            "asname": asname,
            "dynamic": dynamic,
            "in_try": self.in_try,
            "in_type_checking": self.in_type_checking,
            "in_function": self.in_function,
            "conditional": self.in_try or self.in_type_checking or self.in_function or self.in_if,
        }


class ScopedRows(Generic[BodyT]):
    """The rows of one file, each placed in its scope; and the qualnames of its definitions.

    A walker subclasses this and tells how to find the ``global`` declarations of a body.
    """

    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []
        self._declared: dict[int, frozenset[str]] = {}

    def emit(
        self,
        ctx: ScopeCtx[BodyT] | None,
        kind: str,
        span: Mapping[str, Any],
        *,
        name: str | None = None,
        qualname: str | None = None,
        expr: str | None = None,
        node_ctx: str | None = None,
        detail: dict[str, Any] | None = None,
    ) -> int:
        """Append a row (its span columns last, as given) and return its ordinal."""
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
                "ctx": node_ctx,
                "detail": encode_detail(detail),
                **span,
            }
        )
        return ordinal

    def emit_call(
        self,
        ctx: ScopeCtx[BodyT],
        span: Mapping[str, Any],
        callee: str | None,
        *,
        nargs: int,
        nkeywords: int,
        first: ArgT | None,
        literal: Callable[[ArgT], str | None],
    ) -> list[int]:
        """Emit the row of a call whose callee has *expr text* ``callee``; return the ordinals.

        A dynamic import (``importlib.import_module``, ``__import__``) whose first argument
        ``first`` is a string literal (``literal`` reads it, None when it is not one) also
        gets an ``import`` row on the same span, after the call row.
        """
        ordinals = [
            self.emit(
                ctx,
                "call",
                span,
                name=callee.rsplit(".", 1)[-1] if callee else None,
                expr=callee,
                detail={"nargs": nargs, "nkeywords": nkeywords},
            )
        ]
        dynamic = DYNAMIC_IMPORTS.get(callee or "")
        module = literal(first) if dynamic is not None and first is not None else None
        if dynamic is not None and module is not None:
            detail = ctx.import_detail(level=0, asname=None, dynamic=dynamic)
            ordinals.append(self.emit(ctx, "import", span, expr=module, detail=detail))
        return ordinals

    def def_qualname(self, name: str, ctx: ScopeCtx[BodyT]) -> str:
        """The qualname of a def/class named ``name`` in ``ctx``."""
        body = ctx.scope_body
        # CPython: a def/class declared `global` in its enclosing def/class is not nested.
        if body is not None and ctx.scope_kind in ("function", "class"):
            key = self.body_key(body)
            declared = self._declared.get(key)
            if declared is None:
                declared = self._declared[key] = self.declared_globals(body)
            if name in declared:
                return name
        return ctx.qual_prefix + name

    def body_key(self, body: BodyT) -> int:
        """A key identifying ``body`` for the walk (its object id, unless overridden)."""
        return id(body)

    def declared_globals(self, body: BodyT) -> frozenset[str]:
        """Names declared ``global`` directly in a def/class body (not in nested scopes)."""
        raise NotImplementedError
