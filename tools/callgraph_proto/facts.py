"""Scopes, qualnames and local names of Python modules, read with ``ast`` only.

The prototype's stand-in for the evidence of docs/design/callgraph-1.1.md §2: it never
imports or runs the analysed code. Qualnames follow the suite's conventions (CONTRACT §1,
lambdas numbered ``<lambda_N>`` by order of position in their enclosing scope).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from pathlib import Path

FunctionNode = ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda


@dataclass(eq=False)
class Scope:
    """One scope: a module, a class body or a function (def or lambda)."""

    qualname: str
    kind: str  # "module" | "class" | "function"
    module: str
    node: ast.AST
    parent: Scope | None
    locals: set[str] = field(default_factory=set)
    globals: set[str] = field(default_factory=set)
    nonlocals: set[str] = field(default_factory=set)
    is_package: bool = False

    @property
    def enclosing_class(self) -> Scope | None:
        """The class whose body directly defines this function (for ``super()``)."""
        if self.kind == "function" and self.parent is not None and self.parent.kind == "class":
            return self.parent
        return None


def module_name(root: Path, path: Path) -> tuple[str, bool]:
    """The dotted module name of ``path`` under ``root`` and whether it is a package."""
    parts = list(path.relative_to(root).with_suffix("").parts)
    is_package = parts[-1] == "__init__"
    if is_package:
        parts = parts[:-1]
    return ".".join(parts), is_package


def _target_names(node: ast.AST) -> list[str]:
    return [n.id for n in ast.walk(node) if isinstance(n, ast.Name)]


class _Collector(ast.NodeVisitor):
    """Numbers scopes like tests/callgraph_suite/score.py's ``_Definitions`` and fills locals."""

    def __init__(self, module: str, tree: ast.Module, is_package: bool) -> None:
        self.module = module
        self.scopes: dict[ast.AST, Scope] = {}
        self.lambdas: dict[str, int] = {}
        top = Scope(module, "module", module, tree, None, is_package=is_package)
        self.scopes[tree] = top
        self.stack: list[tuple[str, Scope]] = []
        self.top = top

    @property
    def current(self) -> Scope:
        return self.stack[-1][1] if self.stack else self.top

    def _local(self, name: str) -> str:
        if not self.stack:
            return name
        parent, scope = self.stack[-1]
        return f"{parent}.<locals>.{name}" if scope.kind == "function" else f"{parent}.{name}"

    def _enter(self, node: ast.AST, local: str, kind: str) -> Scope:
        scope = Scope(f"{self.module}.{local}", kind, self.module, node, self.current)
        self.scopes[node] = scope
        self.stack.append((local, scope))
        return scope

    def _params(self, scope: Scope, args: ast.arguments) -> None:
        for a in [*args.posonlyargs, *args.args, *args.kwonlyargs]:
            scope.locals.add(a.arg)
        for extra in (args.vararg, args.kwarg):
            if extra is not None:
                scope.locals.add(extra.arg)

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        self._visit_def(node)

    def visit_AsyncFunctionDef(self, node: ast.AsyncFunctionDef) -> None:
        self._visit_def(node)

    def _visit_def(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        for expr in [*node.decorator_list, *node.args.defaults, *node.args.kw_defaults]:
            if expr is not None:
                self.visit(expr)
        self.current.locals.add(node.name)
        scope = self._enter(node, self._local(node.name), "function")
        self._params(scope, node.args)
        for stmt in node.body:
            self.visit(stmt)
        self.stack.pop()

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        for expr in [*node.decorator_list, *node.bases]:
            self.visit(expr)
        self.current.locals.add(node.name)
        self._enter(node, self._local(node.name), "class")
        for stmt in node.body:
            self.visit(stmt)
        self.stack.pop()

    def visit_Lambda(self, node: ast.Lambda) -> None:
        key = self.stack[-1][0] if self.stack else ""
        index = self.lambdas.get(key, 0)
        self.lambdas[key] = index + 1
        scope = self._enter(node, self._local(f"<lambda_{index}>"), "function")
        self._params(scope, node.args)
        self.generic_visit(node)
        self.stack.pop()

    # bindings of the current scope
    def visit_Name(self, node: ast.Name) -> None:
        if isinstance(node.ctx, ast.Store | ast.Del):
            self.current.locals.add(node.id)

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self.current.locals.add(alias.asname or alias.name.split(".")[0])

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        for alias in node.names:
            if alias.name != "*":
                self.current.locals.add(alias.asname or alias.name)

    def visit_Global(self, node: ast.Global) -> None:
        self.current.globals.update(node.names)

    def visit_Nonlocal(self, node: ast.Nonlocal) -> None:
        self.current.nonlocals.update(node.names)

    def visit_ExceptHandler(self, node: ast.ExceptHandler) -> None:
        if node.name:
            self.current.locals.add(node.name)
        self.generic_visit(node)


def collect(module: str, tree: ast.Module, is_package: bool) -> dict[ast.AST, Scope]:
    """Every scope of a parsed module, keyed by its node."""
    collector = _Collector(module, tree, is_package)
    collector.visit(tree)
    for scope in collector.scopes.values():
        scope.locals -= scope.globals | scope.nonlocals
    return collector.scopes
