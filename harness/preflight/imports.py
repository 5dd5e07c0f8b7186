"""Every import of one Python file, read from its syntax tree (never imported or run).

Forms found: ``import x``, ``import x.y as z``, ``from x import y``, relative imports resolved
against the importing file's package, ``importlib.import_module(name[, package])`` (through
any alias of ``importlib`` or ``import_module``), ``importlib.util.find_spec``,
``pytest.importorskip`` and ``__import__(name, ..., fromlist, level)``. The module name of a
dynamic import must be a string literal, a module-level string constant, a literal f-string
or a concatenation of those; anything else is reported as unresolved, never guessed.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Literal

ImportKind = Literal["import", "relative_import", "dynamic_import", "dunder_import"]

# Fully qualified callables that import the module named by their first argument.
_DYNAMIC: dict[str, ImportKind] = {
    "importlib.import_module": "dynamic_import",
    "importlib.util.find_spec": "dynamic_import",
    "pytest.importorskip": "dynamic_import",
    "__import__": "dunder_import",
    "builtins.__import__": "dunder_import",
    "importlib.__import__": "dunder_import",
}


@dataclass(frozen=True)
class ImportRef:
    """One imported module: ``module`` is absolute; ``names`` are the names taken from it
    (``from module import a, b``), each possibly a submodule."""

    line: int
    col: int
    kind: ImportKind
    module: str
    names: tuple[str, ...] = ()


@dataclass(frozen=True)
class Unresolved:
    """An import the scanner could not name statically."""

    line: int
    kind: Literal["unresolved_relative_import", "unresolved_dynamic_import"]
    message: str


def resolve_relative(package: str | None, module: str, level: int) -> str | None:
    """Absolute name of a relative import ``level`` dots above ``package``, as importlib
    resolves it; None when it climbs above the top-level package."""
    if level == 0:
        return module or None
    if not package:
        return None
    bits = package.rsplit(".", level - 1)
    if len(bits) < level:
        return None
    base = bits[0]
    return f"{base}.{module}" if module else base


def _module_constants(tree: ast.Module) -> dict[str, str]:
    """Module-level names bound exactly once, to a string literal."""
    counts: dict[str, int] = {}
    values: dict[str, str] = {}
    for stmt in tree.body:
        targets: list[ast.expr] = []
        value: ast.expr | None = None
        if isinstance(stmt, ast.Assign):
            targets, value = stmt.targets, stmt.value
        elif isinstance(stmt, ast.AnnAssign):
            targets, value = [stmt.target], stmt.value
        elif isinstance(stmt, ast.AugAssign):
            targets = [stmt.target]
        for target in targets:
            if isinstance(target, ast.Name):
                counts[target.id] = counts.get(target.id, 0) + 1
                if isinstance(value, ast.Constant) and isinstance(value.value, str):
                    values[target.id] = value.value
    return {k: v for k, v in values.items() if counts[k] == 1}


def _bindings(tree: ast.Module, package: str | None) -> dict[str, str]:
    """Local name -> fully qualified name, for every name an import statement binds."""
    bound: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    bound[alias.asname] = alias.name
                else:
                    top = alias.name.split(".", 1)[0]
                    bound[top] = top
        elif isinstance(node, ast.ImportFrom):
            base = resolve_relative(package, node.module or "", node.level)
            if base is None:
                continue
            for alias in node.names:
                if alias.name != "*":
                    bound[alias.asname or alias.name] = f"{base}.{alias.name}"
    return bound


def _dotted(node: ast.expr) -> str | None:
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(node.id)
    return ".".join(reversed(parts))


class _Finder:
    """Collects the imports of one module; ``package`` anchors its relative imports."""

    def __init__(self, tree: ast.Module, module: str | None, is_package: bool) -> None:
        self.module = module
        self.package = module if is_package else (module.rpartition(".")[0] if module else None)
        self.constants = _module_constants(tree)
        self.bindings = _bindings(tree, self.package)
        self.refs: list[ImportRef] = []
        self.unresolved: list[Unresolved] = []

    def string(self, node: ast.expr | None) -> str | None:
        """The static string value of an argument, else None."""
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return node.value
        if isinstance(node, ast.Name):
            return self.constants.get(node.id)
        if isinstance(node, ast.JoinedStr):
            parts = [self.string(v) for v in node.values]
            return None if any(p is None for p in parts) else "".join(p or "" for p in parts)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            left, right = self.string(node.left), self.string(node.right)
            return None if left is None or right is None else left + right
        return None

    def visit(self, node: ast.AST) -> None:
        if isinstance(node, ast.Import):
            for alias in node.names:
                self.refs.append(ImportRef(node.lineno, node.col_offset, "import", alias.name))
        elif isinstance(node, ast.ImportFrom):
            self.visit_from(node)
        elif isinstance(node, ast.Call):
            self.visit_call(node)

    def visit_from(self, node: ast.ImportFrom) -> None:
        if node.module == "__future__":
            return
        names = tuple(a.name for a in node.names if a.name != "*")
        if node.level == 0:
            self.refs.append(
                ImportRef(node.lineno, node.col_offset, "import", node.module or "", names)
            )
            return
        base = resolve_relative(self.package, node.module or "", node.level)
        if base is None:
            dots = "." * node.level
            self.unresolved.append(
                Unresolved(
                    node.lineno,
                    "unresolved_relative_import",
                    f"from {dots}{node.module or ''} import ... climbs above the top-level "
                    f"package of {self.module or 'a file outside any package'}",
                )
            )
            return
        self.refs.append(ImportRef(node.lineno, node.col_offset, "relative_import", base, names))

    def callee(self, func: ast.expr) -> str | None:
        dotted = _dotted(func)
        if dotted is None:
            return None
        head, _, rest = dotted.partition(".")
        full = self.bindings.get(head, head)
        return f"{full}.{rest}" if rest else full

    def visit_call(self, node: ast.Call) -> None:
        callee = self.callee(node.func)
        kind = _DYNAMIC.get(callee or "")
        if kind is None or callee is None:
            return
        args = {kw.arg: kw.value for kw in node.keywords if kw.arg}
        first = node.args[0] if node.args else args.get("name") or args.get("modname")
        name = self.string(first)
        if name is None:
            self.unresolved.append(
                Unresolved(
                    node.lineno,
                    "unresolved_dynamic_import",
                    f"{callee}() with a module name that is not a static string",
                )
            )
            return
        if kind == "dunder_import":
            module, names = self.dunder(node, args, name)
        else:
            module, names = self.import_module(node, args, name, callee), ()
        if module is None:
            self.unresolved.append(
                Unresolved(
                    node.lineno,
                    "unresolved_dynamic_import",
                    f"{callee}({name!r}) is relative to a package the scanner cannot name",
                )
            )
            return
        self.refs.append(ImportRef(node.lineno, node.col_offset, kind, module, names))

    def package_arg(self, node: ast.expr | None) -> str | None:
        if isinstance(node, ast.Name) and node.id == "__package__":
            return self.package
        if isinstance(node, ast.Name) and node.id == "__name__":
            return self.module
        return self.string(node)

    def import_module(
        self, node: ast.Call, args: dict[str, ast.expr], name: str, callee: str
    ) -> str | None:
        level = len(name) - len(name.lstrip("."))
        if level == 0:
            return name
        # import_module(name, package) and find_spec(name, package) share the argument slot.
        raw = node.args[1] if len(node.args) > 1 else args.get("package")
        if callee == "pytest.importorskip":
            return None
        return resolve_relative(self.package_arg(raw), name[level:], level)

    def dunder(
        self, node: ast.Call, args: dict[str, ast.expr], name: str
    ) -> tuple[str | None, tuple[str, ...]]:
        fromlist_node = node.args[3] if len(node.args) > 3 else args.get("fromlist")
        level_node = node.args[4] if len(node.args) > 4 else args.get("level")
        names: tuple[str, ...] = ()
        if isinstance(fromlist_node, ast.List | ast.Tuple):
            values = [self.string(e) for e in fromlist_node.elts]
            names = tuple(v for v in values if v and v != "*")
        level = 0
        if isinstance(level_node, ast.Constant) and isinstance(level_node.value, int):
            level = level_node.value
        return resolve_relative(self.package, name, level), names


def find_imports(
    tree: ast.Module, module: str | None, is_package: bool
) -> tuple[list[ImportRef], list[Unresolved]]:
    """Every import of a parsed module, in source order, and the ones that cannot be named."""
    finder = _Finder(tree, module, is_package)
    for node in ast.walk(tree):
        finder.visit(node)
    refs = sorted(finder.refs, key=lambda r: (r.line, r.col, r.module))
    return refs, sorted(finder.unresolved, key=lambda u: u.line)
