"""Every golden repository's expected.json is well formed and speaks of things that exist.

The repositories are only parsed here (``ast.parse`` on bytes), never imported or executed.
An independent, deliberately simple index of each repository (modules by CONTRACT §2,
definitions with CPython qualnames, imports, calls) checks that every fact names real files,
modules, classes, functions and parameters, and that calls, imports and diagnostics are
plausible from the source text.
"""

from __future__ import annotations

import ast
import importlib.metadata
import importlib.util
import io
import os
import sys
import tokenize
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from _pytest.mark import ParameterSet

from harness.golden.expected import (
    DiagnosticFact,
    EdgeFact,
    Expected,
    ExpectedError,
    ExternalFact,
    ImportFact,
    NodeFact,
    decode_expected,
    load_expected,
)
from harness.golden.hostile import HOSTILE_FILES, HOSTILE_SYMLINKS, write_hostile_files
from harness.golden.manifest import RepoEntry, load_manifest

MANIFEST = load_manifest()
REPOS = {entry.name: entry for entry in MANIFEST.repo}
_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)
_COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)


@dataclass
class Definition:
    kind: str  # CLASS or FUNCTION
    parent: str  # full qualname of the enclosing module/class/function
    node: ast.AST
    params: tuple[str, ...] = ()


@dataclass
class RepoIndex:
    root: Path
    modules: dict[str, str] = field(default_factory=dict)  # module -> repo-relative path
    trees: dict[str, ast.Module] = field(default_factory=dict)  # module -> tree
    defs: dict[str, list[Definition]] = field(default_factory=dict)

    def module_of(self, qualname: str) -> str:
        """The longest module name that prefixes ``qualname``."""
        parts = qualname.split(".")
        for end in range(len(parts), 0, -1):
            candidate = ".".join(parts[:end])
            if candidate in self.modules:
                return candidate
        raise AssertionError(f"{qualname!r} is in no module of {self.root.name}")

    def scope_node(self, qualname: str) -> ast.AST:
        if qualname in self.trees:
            return self.trees[qualname]
        assert qualname in self.defs, f"no definition {qualname!r}"
        return self.defs[qualname][0].node


def _source_roots(root: Path) -> list[Path]:
    roots = [root]
    src = root / "src"
    if src.is_dir() and any(
        p.suffix == ".py" or (p / "__init__.py").exists() for p in src.iterdir()
    ):
        roots.append(src)
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        if Path(dirpath) != root and {"setup.py", "pyproject.toml"} & set(filenames):
            roots.append(Path(dirpath))
    return roots


def _python_files(root: Path) -> list[Path]:
    found: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(root):  # never follows directory symlinks
        dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and d != "__pycache__")
        found += [Path(dirpath) / f for f in sorted(filenames) if f.endswith((".py", ".pyi"))]
    return found


def _module_name(path: Path, roots: list[Path]) -> str | None:
    source_root = max((r for r in roots if path.is_relative_to(r)), key=lambda r: len(r.parts))
    parts = list(path.relative_to(source_root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    if not parts or not all(p.isidentifier() for p in parts):
        return None
    return ".".join(parts)


def _params(node: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda) -> tuple[str, ...]:
    a = node.args
    names = [p.arg for p in (*a.posonlyargs, *a.args)]
    names += [a.vararg.arg] if a.vararg else []
    names += [p.arg for p in a.kwonlyargs]
    names += [a.kwarg.arg] if a.kwarg else []
    return tuple(names)


def _index_defs(index: RepoIndex, module: str, tree: ast.Module) -> None:
    def visit(body: list[ast.stmt], prefix: str, parent: str) -> None:
        # Only statements can define classes and functions; walk nested blocks (if/try/...).
        for stmt in body:
            if isinstance(stmt, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
                qual = f"{prefix}{stmt.name}"
                full = f"{module}.{qual}"
                kind = "CLASS" if isinstance(stmt, ast.ClassDef) else "FUNCTION"
                params = () if isinstance(stmt, ast.ClassDef) else _params(stmt)
                index.defs.setdefault(full, []).append(Definition(kind, parent, stmt, params))
                inner = f"{qual}." if kind == "CLASS" else f"{qual}.<locals>."
                visit(stmt.body, inner, full)
            else:
                for child_body in _child_bodies(stmt):
                    visit(child_body, prefix, parent)

    visit(tree.body, "", module)


def _child_bodies(stmt: ast.stmt) -> list[list[ast.stmt]]:
    bodies: list[list[ast.stmt]] = []
    for name in ("body", "orelse", "finalbody"):
        value = getattr(stmt, name, None)
        if isinstance(value, list) and value and isinstance(value[0], ast.stmt):
            bodies.append(value)
    bodies += [h.body for h in getattr(stmt, "handlers", [])]
    bodies += [c.body for c in getattr(stmt, "cases", [])]
    return bodies


def build_index(root: Path) -> RepoIndex:
    index = RepoIndex(root)
    roots = _source_roots(root)
    for path in _python_files(root):
        if path.is_symlink():
            continue
        module = _module_name(path, roots)
        if module is None:
            continue
        index.modules[module] = path.relative_to(root).as_posix()
        try:
            tree = ast.parse(path.read_bytes())
        except (SyntaxError, ValueError, RecursionError):
            continue  # hostile files: the module exists, its contents are not indexed
        index.trees[module] = tree
        _index_defs(index, module, tree)
    return index


_INDEXES: dict[str, RepoIndex] = {}


def index_of(entry: RepoEntry) -> RepoIndex:
    if entry.name not in _INDEXES:
        _INDEXES[entry.name] = build_index(MANIFEST.repo_dir(entry))
    return _INDEXES[entry.name]


def expected_of(entry: RepoEntry) -> Expected:
    return load_expected(MANIFEST.repo_dir(entry) / "expected.json")


def facts_of(kind: type) -> list[ParameterSet]:
    return [
        pytest.param(entry.name, fact, id=f"{entry.name}-{i}")
        for entry in MANIFEST.repo
        for i, fact in enumerate(expected_of(entry).facts)
        if isinstance(fact, kind)
    ]


def _own_calls(scope: ast.AST) -> list[ast.Call]:
    """Calls whose enclosing scope is ``scope`` (not nested defs, lambdas, comprehensions)."""
    calls: list[ast.Call] = []
    stack = list(ast.iter_child_nodes(scope))
    while stack:
        node = stack.pop()
        if isinstance(node, _SCOPES + _COMPREHENSIONS):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                # Decorators and defaults are evaluated in the enclosing scope.
                stack += node.decorator_list
            continue
        if isinstance(node, ast.Call):
            calls.append(node)
        stack += ast.iter_child_nodes(node)
    return calls


def _terminal_name(func: ast.expr) -> str | None:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return None


def _aliases(tree: ast.Module) -> dict[str, set[str]]:
    """Imported name -> the names it is bound as (``from x import add as plus``)."""
    out: dict[str, set[str]] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            for alias in node.names:
                out.setdefault(alias.name, {alias.name}).add(alias.asname or alias.name)
    return out


def _absolute(module: str, is_package: bool, level: int, target: str | None) -> str:
    if level == 0:
        return target or ""
    base = module.split(".") if is_package else module.split(".")[:-1]
    base = base[: len(base) - (level - 1)]
    return ".".join([*base, *([target] if target else [])])


def _imports(index: RepoIndex, module: str) -> list[tuple[str, str | None, str]]:
    """(module as written, imported name or None, absolute module) of every import."""
    path = index.modules[module]
    is_package = path.endswith("__init__.py")
    found: list[tuple[str, str | None, str]] = []
    for node in ast.walk(index.trees[module]):
        if isinstance(node, ast.Import):
            found += [(a.name, None, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            written = "." * node.level + (node.module or "")
            absolute = _absolute(module, is_package, node.level, node.module)
            found += [(written, a.name, absolute) for a in node.names]
        elif (
            isinstance(node, ast.Call)
            and ast.unparse(node.func) in {"importlib.import_module", "__import__"}
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            found.append((node.args[0].value, None, node.args[0].value))
    return found


# ---------------------------------------------------------------------------------------------
# Schema and shape
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("entry", MANIFEST.repo, ids=lambda e: e.name)
def test_expected_json_decodes_and_names_its_repo(entry: RepoEntry) -> None:
    expected = expected_of(entry)
    assert expected.repo == entry.name
    assert expected.facts


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ('{"repo": "x", "facts": [{"fact": "node", "kind": "MODULE"}]}', "qualname"),
        ('{"repo": "x", "facts": [{"fact": "node", "kind": "FILE", "qualname": "a"}]}', "kind"),
        ('{"repo": "x", "facts": [{"fact": "vertex", "qualname": "a"}]}', "vertex"),
        (
            '{"repo": "x", "facts": [{"fact": "edge", "kind": "CALLS", "src": "a", "dst": "b",'
            ' "weight": 1}]}',
            "weight",
        ),
        (
            '{"repo": "x", "facts": [{"fact": "import", "path": "a.py", "module": "os",'
            ' "target_kind": "external", "resolved_path": null}]}',
            "name",
        ),
        (
            '{"repo": "x", "facts": [{"fact": "diagnostic", "path": "a.py", "code": "NOPE"}]}',
            "NOPE",
        ),
        (
            '{"repo": "x", "facts": [{"fact": "node", "kind": "MODULE", "qualname": "a"},'
            ' {"fact": "node", "kind": "MODULE", "qualname": "a"}]}',
            "duplicate",
        ),
    ],
)
def test_malformed_expected_facts_are_rejected_precisely(text: str, fragment: str) -> None:
    with pytest.raises(ExpectedError, match=r"^bad\.json: .*" + fragment):
        decode_expected(text.encode(), source="bad.json")


# ---------------------------------------------------------------------------------------------
# Every fact names something that exists
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("repo", "fact"), facts_of(NodeFact))
def test_node_fact_names_an_existing_definition(repo: str, fact: NodeFact) -> None:
    index = index_of(REPOS[repo])
    if fact.kind == "MODULE":
        assert fact.qualname in index.modules
    elif fact.kind == "PARAMETER":
        function, _, param = fact.qualname.rpartition(".")
        assert any(param in d.params for d in index.defs.get(function, []))
    else:
        assert any(d.kind == fact.kind for d in index.defs.get(fact.qualname, []))


@pytest.mark.parametrize(("repo", "fact"), facts_of(EdgeFact))
def test_edge_fact_joins_existing_nodes_of_the_right_kinds(repo: str, fact: EdgeFact) -> None:
    index = index_of(REPOS[repo])
    kinds = {"CLASS", "FUNCTION"}
    src_kinds = {d.kind for d in index.defs.get(fact.src, [])}
    dst_kinds = {d.kind for d in index.defs.get(fact.dst, [])}
    if fact.kind == "IMPORTS":
        assert fact.src in index.modules and fact.dst in index.modules
        absolutes = {(a, n) for _, n, a in _imports(index, fact.src)}
        assert any(fact.dst in (a, f"{a}.{n}") for a, n in absolutes)
    elif fact.kind == "DEFINES":
        assert any(d.parent == fact.src for d in index.defs.get(fact.dst, []))
    elif fact.kind == "HAS_PARAMETER":
        function, _, param = fact.dst.rpartition(".")
        assert function == fact.src
        assert any(param in d.params for d in index.defs.get(fact.src, []))
    elif fact.kind == "INHERITS_FROM":
        assert src_kinds == {"CLASS"} and dst_kinds == {"CLASS"}
        bases = {_terminal_name(b) for b in index.defs[fact.src][0].node.bases}  # type: ignore[attr-defined]
        assert fact.dst.rsplit(".", 1)[-1] in bases
    elif fact.kind == "OVERRIDES":
        assert src_kinds == {"FUNCTION"} and dst_kinds == {"FUNCTION"}
        assert fact.src.rsplit(".", 1)[-1] == fact.dst.rsplit(".", 1)[-1]
        for qual in (fact.src, fact.dst):
            parent = index.defs[qual][0].parent
            assert {d.kind for d in index.defs.get(parent, [])} == {"CLASS"}
    else:  # CALLS: the source scope holds a call whose callee names the target or an alias
        assert fact.src in index.modules or src_kinds & {"FUNCTION"}
        assert dst_kinds & kinds
        module = index.module_of(fact.src)
        target = fact.dst.rsplit(".", 1)[-1]
        names = _aliases(index.trees[module]).get(target, set()) | {target}
        callees = {_terminal_name(c.func) for c in _own_calls(index.scope_node(fact.src))}
        assert names & callees, (
            f"no call of {sorted(names)} in {fact.src}: {sorted(map(str, callees))}"
        )


@pytest.mark.parametrize(("repo", "fact"), facts_of(ImportFact))
def test_import_fact_matches_an_import_and_its_resolution(repo: str, fact: ImportFact) -> None:
    index = index_of(REPOS[repo])
    module = {path: mod for mod, path in index.modules.items()}[fact.path]
    matching = [i for i in _imports(index, module) if i[:2] == (fact.module, fact.name)]
    assert matching, f"no import of {fact.module!r} / {fact.name!r} in {fact.path}"
    absolute = matching[0][2]
    by_name = dict(index.modules)
    submodule = f"{absolute}.{fact.name}" if fact.name not in (None, "*") else None
    if fact.target_kind == "external":
        assert fact.resolved_path is None
        assert absolute.split(".")[0] not in {m.split(".")[0] for m in index.modules}
    elif fact.target_kind == "namespace_package":
        assert fact.resolved_path is None
        assert (index.root / absolute.replace(".", "/")).is_dir()
        assert absolute not in by_name
    elif fact.target_kind == "attribute":
        assert submodule not in by_name and by_name.get(absolute) == fact.resolved_path
        defined = {n.name for n in index.trees[absolute].body if isinstance(n, _SCOPES[:3])}
        assert fact.name in defined
    else:  # module or package: the name (or the module itself) is a repo file
        assert fact.target_kind in {"module", "package"}
        resolved = by_name.get(submodule or absolute)
        assert resolved is not None and resolved == fact.resolved_path
        assert resolved.endswith("__init__.py") == (fact.target_kind == "package")


@pytest.mark.parametrize(("repo", "fact"), facts_of(ExternalFact))
def test_external_fact_is_imported_and_classified_by_this_environment(
    repo: str, fact: ExternalFact
) -> None:
    index = index_of(REPOS[repo])
    absolutes = {a for mod in index.trees for _, _, a in _imports(index, mod)}
    assert fact.module in absolutes
    top = fact.module.split(".")[0]
    assert top not in {m.split(".")[0] for m in index.modules}
    is_stdlib = top in sys.stdlib_module_names
    installed = top in importlib.metadata.packages_distributions()
    # find_spec on a top-level name only searches the finders; it imports nothing.
    expected = "stdlib" if is_stdlib else "third_party" if installed else "unresolved"
    assert fact.classification == expected
    if expected == "unresolved":
        assert importlib.util.find_spec(top) is None


def _decodes(data: bytes) -> bool:
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
        data.decode(encoding)
    except (SyntaxError, LookupError, UnicodeDecodeError):
        return False
    return True


def _parses(data: bytes) -> bool:
    try:
        ast.parse(data)
    except SyntaxError:
        return False
    return True


def _outside(path: Path, root: Path) -> bool:
    return not Path(os.path.realpath(path)).is_relative_to(root.resolve())


def _loops(path: Path) -> bool:
    try:
        os.path.realpath(path, strict=True)
    except OSError:
        return True
    return False


_DIAGNOSTIC_CHECKS: dict[str, Callable[[Path, Path], bool]] = {
    "SCAN_BINARY_FILE": lambda p, root: b"\x00" in p.read_bytes(),
    "SCAN_DECODE_ERROR": lambda p, root: (
        b"\x00" not in p.read_bytes() and not _decodes(p.read_bytes())
    ),
    "SCAN_EMPTY_FILE": lambda p, root: p.stat().st_size == 0,
    "SCAN_SYMLINK_LOOP": lambda p, root: p.is_symlink() and _loops(p),
    "SCAN_SYMLINK_ESCAPE": lambda p, root: p.is_symlink() and not _loops(p) and _outside(p, root),
    "EXTRACT_SYNTAX_ERROR": lambda p, root: (
        _decodes(p.read_bytes()) and not _parses(p.read_bytes())
    ),
    "IMPORT_UNRESOLVED": lambda p, root: True,
}


@pytest.mark.parametrize(("repo", "fact"), facts_of(DiagnosticFact))
def test_diagnostic_fact_describes_its_file(repo: str, fact: DiagnosticFact) -> None:
    root = MANIFEST.repo_dir(REPOS[repo])
    path = root / fact.path
    assert os.path.lexists(path)
    assert _DIAGNOSTIC_CHECKS[fact.code](path, root)


# ---------------------------------------------------------------------------------------------
# The repositories themselves
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("entry", MANIFEST.repo, ids=lambda e: e.name)
def test_repo_code_never_names_the_analyser_outside_the_sentinel_traps(entry: RepoEntry) -> None:
    root = MANIFEST.repo_dir(entry)
    offenders = [
        p.relative_to(root).as_posix()
        for p in _python_files(root)
        if not p.is_symlink()
        and b"codeanatomy" in p.read_bytes().lower()
        and b"CODEANATOMY_SENTINEL_PATH" not in p.read_bytes()
    ]
    assert offenders == []


def test_committed_hostile_files_equal_a_fresh_generation(tmp_path: Path) -> None:
    write_hostile_files(tmp_path)
    committed = MANIFEST.repo_dir(REPOS["hostile"])
    for rel in HOSTILE_FILES:
        assert (committed / rel).read_bytes() == (tmp_path / rel).read_bytes(), rel
    for link in HOSTILE_SYMLINKS:
        assert (committed / link.path).readlink() == Path(link.target)


def test_hostile_huge_line_is_one_mebibyte_on_one_line() -> None:
    data = HOSTILE_FILES["huge_line.py"]
    assert len(data) == 1024 * 1024
    assert b"\n" not in data and b"\r" not in data
