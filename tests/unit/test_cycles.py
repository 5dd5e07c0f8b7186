"""No import cycles in our code (issue 17.5), checked on the import graph import-linter itself
builds (grimp), lazy and ``TYPE_CHECKING`` imports included:

- between modules: no module reaches itself back through the modules it imports;
- between sibling packages: no two sub-packages of one package reach each other, directly or
  through the modules beside them (``harness.shadow`` <-> ``harness.gates``).

A command module (``harness/<package>/cli.py``) sits beside the code it drives but belongs to
the command-line layer above every package, so its imports do not count as its package's; it
is still held by the module rule. A planted cycle, of either kind, is reported with its chain.
"""

from __future__ import annotations

import uuid
from collections import deque
from collections.abc import Mapping
from itertools import pairwise
from pathlib import Path

import grimp
import pytest

ROOTS = ("harness", "backends")
CLI_MODULE = "cli"
"""The name of a package's command module."""

Edges = Mapping[str, set[str]]


def import_graph(*packages: str) -> grimp.ImportGraph:
    return grimp.build_graph(*packages, cache_dir=None)


def _path(start: str, goal: str, edges: Edges) -> list[str] | None:
    """A shortest chain of imports from ``start`` to ``goal`` (back to itself when they are
    the same); None when ``start`` does not reach ``goal``."""
    paths = {s: [start, s] for s in sorted(edges.get(start, ()))}
    queue = deque(paths)
    while queue:
        node = queue.popleft()
        if node == goal:
            return paths[node]
        for successor in sorted(edges.get(node, ())):
            if successor not in paths:
                paths[successor] = [*paths[node], successor]
                queue.append(successor)
    return None


def module_cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """Chains of modules that reach themselves back (``a -> b -> a``): every module in a cycle
    is in one of them at least."""
    # A module "importing itself" is grimp's record of a compiled submodule it cannot see
    # (``from backends.rust import _engine``), not a cycle.
    edges = {m: graph.find_modules_directly_imported_by(m) - {m} for m in graph.modules}
    chains: list[list[str]] = []
    for module in sorted(graph.modules):
        if not any(module in chain for chain in chains):
            chain = _path(module, module, edges)
            if chain is not None:
                chains.append(chain)
    return chains


def _is_command_module(module: str, child: str) -> bool:
    return module != child and module.rsplit(".", 1)[-1] == CLI_MODULE


def _sibling_edges(graph: grimp.ImportGraph, package: str) -> dict[str, set[str]]:
    """The children of ``package``, each importing another when one of its modules does (a
    command module excepted)."""
    depth = package.count(".") + 2
    edges: dict[str, set[str]] = {}
    for module in graph.find_descendants(package):
        child = ".".join(module.split(".")[:depth])
        if _is_command_module(module, child):
            continue
        for imported in graph.find_modules_directly_imported_by(module):
            target = ".".join(imported.split(".")[:depth])
            if imported.startswith(f"{package}.") and target != child:
                edges.setdefault(child, set()).add(target)
    return edges


def package_cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """Chains ``a -> ... -> b -> ... -> a`` of two sibling packages that reach each other,
    directly or through the modules beside them."""
    cycles = []
    for package in sorted(m for m in graph.modules if graph.find_children(m)):
        edges = _sibling_edges(graph, package)
        packages = sorted(c for c in graph.find_children(package) if graph.find_children(c))
        for i, a in enumerate(packages):
            for b in packages[i + 1 :]:
                there, back = _path(a, b, edges), _path(b, a, edges)
                if there is not None and back is not None:
                    cycles.append([*there, *back[1:]])
    return cycles


def _show(cycles: list[list[str]]) -> str:
    return "\n".join(" -> ".join(chain) for chain in cycles)


# --- the real tree -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ours() -> grimp.ImportGraph:
    return import_graph(*ROOTS)


def test_the_graph_checked_is_our_whole_code(ours: grimp.ImportGraph) -> None:
    # Not vacuous: every package of ours is in it, with its imports.
    assert {"harness.shadow", "harness.gates", "backends.contract"} <= ours.modules
    assert ours.count_imports() > 300


def test_no_module_reaches_itself_back(ours: grimp.ImportGraph) -> None:
    cycles = module_cycles(ours)
    assert not cycles, f"import cycles between modules:\n{_show(cycles)}"


def test_no_sibling_packages_reach_each_other(ours: grimp.ImportGraph) -> None:
    cycles = package_cycles(ours)
    assert not cycles, f"import cycles between sibling packages:\n{_show(cycles)}"


# The cycles of issue 17.5, planted back into the real graph: each is found again.
PLANTED_IN_OURS = [
    ("harness.engine_cli", "harness.cli", "module"),
    ("harness.config.hamilton", "harness.config.migrate", "module"),
    ("harness.adapters.rust", "harness.run.request", "package"),
    ("harness.report.model", "harness.gates.suite", "package"),
    ("harness.shadow.runner", "harness.gates.history", "package"),
]


@pytest.mark.parametrize(("importer", "imported", "kind"), PLANTED_IN_OURS)
def test_a_cycle_planted_in_our_graph_is_reported(importer: str, imported: str, kind: str) -> None:
    graph = import_graph(*ROOTS)
    graph.add_import(importer=importer, imported=imported)
    if kind == "module":
        cycles = module_cycles(graph)
        assert any(importer in chain and imported in chain for chain in cycles), cycles
    else:
        cycles = package_cycles(graph)
        assert any(
            importer.startswith(f"{a}.") and imported.startswith(f"{b}.")
            for chain in cycles
            for a, b in pairwise(chain)
        ), cycles


# --- planted packages ----------------------------------------------------------------------


def _package(root: Path, files: Mapping[str, str], monkeypatch: pytest.MonkeyPatch) -> str:
    """Write a package of ``files`` (path -> source) under ``root``; return its unique name."""
    name = f"planted_{uuid.uuid4().hex[:12]}"
    for path, source in {"__init__.py": "", **files}.items():
        target = root / name / path
        target.parent.mkdir(parents=True, exist_ok=True)
        for folder in target.relative_to(root / name).parents:
            (root / name / folder / "__init__.py").touch()
        target.write_text(source.replace("PKG", name), encoding="utf-8")
    monkeypatch.syspath_prepend(str(root))
    return name


def _named(name: str, chains: list[list[str]]) -> list[list[str]]:
    return [[f"{name}.{member}" for member in chain] for chain in chains]


# (what is planted: path -> source, the module cycles and the sibling-package cycles reported)
PLANTED = {
    # The vacuous case: nothing imported, nothing reported.
    "no imports": ({"a.py": "", "b/c.py": "", "d/e.py": ""}, [], []),
    "imports one way": (
        {"a.py": "import PKG.b.c\n", "b/c.py": "import PKG.d.e\n", "d/e.py": ""},
        [],
        [],
    ),
    # A lazy import (inside a function) closes a cycle as much as a top-level one.
    "module cycle": (
        {"a.py": "import PKG.b\n", "b.py": "def f():\n    from PKG import a\n"},
        [["a", "b", "a"]],
        [],
    ),
    # No module cycle (x.m -> y.n, y.o -> x.p), yet the packages x and y depend on each other.
    "package cycle": (
        {"x/m.py": "import PKG.y.n\n", "x/p.py": "", "y/n.py": "", "y/o.py": "import PKG.x.p\n"},
        [],
        [["x", "y", "x"]],
    ),
    "package cycle through a module beside them": (
        {
            "x/m.py": "import PKG.hub\n",
            "hub.py": "import PKG.y.n\n",
            "y/n.py": "",
            "y/o.py": "import PKG.x.p\n",
            "x/p.py": "",
        },
        [],
        [["x", "hub", "y", "x"]],
    ),
    # x/cli.py drives y, which uses x: the command line is above both packages.
    "command module": (
        {"x/cli.py": "import PKG.y.n\n", "x/core.py": "", "y/n.py": "import PKG.x.core\n"},
        [],
        [],
    ),
    # ... but as a module it is held like any other.
    "command module in a module cycle": (
        {
            "x/cli.py": "import PKG.y.n\n",
            "x/core.py": "import PKG.x.cli\n",
            "y/n.py": "import PKG.x.core\n",
        },
        [["x.cli", "y.n", "x.core", "x.cli"]],
        [],
    ),
}


@pytest.mark.parametrize(("files", "modules", "packages"), PLANTED.values(), ids=list(PLANTED))
def test_a_planted_cycle_is_reported_with_its_chain(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    files: dict[str, str],
    modules: list[list[str]],
    packages: list[list[str]],
) -> None:
    name = _package(tmp_path, files, monkeypatch)
    graph = import_graph(name)
    assert module_cycles(graph) == _named(name, modules)
    assert package_cycles(graph) == _named(name, packages)
