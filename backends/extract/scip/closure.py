"""The forward import closure of every file, and the per-file SCIP cache keys built on it.

A file's SCIP rows depend on its own text and on the files its imports resolve to,
transitively (their types flow into its occurrences). The imports are the rows of kind
``import`` of the syntax tables (ast, cst, tree_sitter: what ``python_imports`` reconciles).
They are resolved the way pyright resolves them, over-approximated, never under: a file
depends on every scanned file an import *could* name (see :func:`candidates`), so a key
never survives a change that could change the file's rows.

The key of a file is a Merkle digest: the file's path and text hash, and the digests of the
strongly connected components of the import graph it reaches (files in one import cycle
share theirs). A change to one file changes the key of exactly the files whose forward
closure contains it; an added or removed file changes the keys of the files whose imports
could name it.
"""

from __future__ import annotations

import hashlib
import json
import posixpath
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any, NamedTuple

import pyarrow as pa
import pyarrow.compute as pc

from backends.contract.schemas import CONTRACT_VERSION

# Bumped when what a key covers changes.
KEY_FORMAT = "1"
_SUFFIXES = (".py", ".pyi")
_BUILTINS_STUB = "__builtins__.pyi"  # pyright extends the builtins with it, for every file


class ImportRef(NamedTuple):
    """One import as written: dotted module (None for ``from . import x``), imported name
    (None for ``import m``; ``*`` for a star import), and relative level."""

    module: str | None
    name: str | None
    level: int


def import_refs(tables: Iterable[pa.Table]) -> dict[str, set[ImportRef]]:
    """path -> its imports, from the ``import`` rows of syntax tables (with a ``path`` column)."""
    refs: dict[str, set[ImportRef]] = defaultdict(set)
    for table in tables:
        if table.num_rows == 0:
            continue
        rows = table.filter(pc.equal(table["kind"], "import"))
        for row in rows.select(["path", "expr", "name", "detail"]).to_pylist():
            detail: dict[str, Any] = json.loads(row["detail"]) if row["detail"] else {}
            level = int(detail.get("level") or 0)
            refs[str(row["path"])].add(ImportRef(row["expr"], row["name"], level))
    return refs


def _module_parts(module: str | None) -> list[str] | None:
    parts = module.split(".") if module else []
    return None if any(p in ("", ".", "..") or "/" in p for p in parts) else parts


def _bases(importer: str, level: int) -> list[str]:
    """Folders an import is resolved from: for an absolute import the root and every folder
    from the importer's up (pyright tries the importer's folder and its parents when the
    root does not resolve it); for a relative one the folder ``level - 1`` above it. The root
    is ``"."``; paths are plain POSIX strings (this runs for every import of every file)."""
    chain: list[str] = []
    folder = posixpath.dirname(importer)
    while folder:
        chain.append(folder)
        folder = posixpath.dirname(folder)
    chain.append(".")
    if level == 0:
        return chain
    return [chain[level - 1]] if level - 1 < len(chain) else []


def _join(base: str, parts: list[str]) -> str:
    if not parts:
        return base
    tail = "/".join(parts)
    return tail if base == "." else f"{base}/{tail}"


def candidates(importer: str, ref: ImportRef) -> tuple[set[str], set[str]]:
    """Every repo-relative path the import could resolve to: the module and each package
    above it (``.py``, ``.pyi``, ``__init__``, a ``-stubs`` package), and for ``from m
    import n`` the submodule ``m.n``; and the folders a star import takes every file of."""
    parts = _module_parts(ref.module)
    out: set[str] = set()
    folders: set[str] = set()
    if parts is None:
        return out, folders
    for base in _bases(importer, ref.level):
        chains = [parts]
        if parts:
            chains.append([parts[0] + "-stubs", *parts[1:]])
        for chain in chains:
            for i in range(1, len(chain) + 1):
                stem = _join(base, chain[:i])
                for suffix in _SUFFIXES:
                    out.add(stem + suffix)
                    out.add(f"{stem}/__init__{suffix}")
            package = _join(base, chain)
            inside = "" if package == "." else f"{package}/"
            if not chain:  # `from . import x`: the package folder itself
                for suffix in _SUFFIXES:
                    out.add(f"{inside}__init__{suffix}")
            if ref.name == "*":
                folders.add(package)
            elif ref.name:
                for suffix in _SUFFIXES:
                    out.add(f"{inside}{ref.name}{suffix}")
                    out.add(f"{inside}{ref.name}/__init__{suffix}")
    return out, folders


@dataclass(frozen=True)
class ImportGraph:
    """Which scanned files each file's imports could resolve to; None when the imports of a
    file are not known (its syntax results are not there yet)."""

    deps: Mapping[str, frozenset[str] | None]

    @classmethod
    def build(
        cls, files: Iterable[str], refs: Mapping[str, set[ImportRef]], known: Iterable[str]
    ) -> ImportGraph:
        """``files``: every file in the mirror; ``refs``: the imports of the ``known`` files
        (a known file absent from ``refs`` imports nothing)."""
        files = set(files)
        by_folder: dict[str, set[str]] = defaultdict(set)
        for path in files:
            by_folder[str(PurePosixPath(path).parent)].add(path)
        known = set(known)
        deps: dict[str, frozenset[str] | None] = {}
        for path in files:
            if path not in known:
                deps[path] = None
                continue
            found: set[str] = set()
            for ref in refs.get(path, ()):
                paths, folders = candidates(path, ref)
                found |= paths & files
                for folder in folders:
                    found |= by_folder.get(folder, set())
            if _BUILTINS_STUB in files:
                found.add(_BUILTINS_STUB)
            found.discard(path)
            deps[path] = frozenset(found)
        return cls(deps=deps)

    def components(self) -> list[list[str]]:
        """Strongly connected components, dependencies before dependents (Tarjan, iterative)."""
        index: dict[str, int] = {}
        low: dict[str, int] = {}
        on_stack: set[str] = set()
        stack: list[str] = []
        out: list[list[str]] = []
        counter = 0
        for root in sorted(self.deps):
            if root in index:
                continue
            work: list[tuple[str, list[str]]] = [(root, sorted(self.deps[root] or ()))]
            index[root] = low[root] = counter
            counter += 1
            stack.append(root)
            on_stack.add(root)
            while work:
                node, todo = work[-1]
                if todo:
                    nxt = todo.pop()
                    if nxt not in index:
                        index[nxt] = low[nxt] = counter
                        counter += 1
                        stack.append(nxt)
                        on_stack.add(nxt)
                        work.append((nxt, sorted(self.deps.get(nxt) or ())))
                    elif nxt in on_stack:
                        low[node] = min(low[node], index[nxt])
                    continue
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])
                if low[node] == index[node]:
                    component: list[str] = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    out.append(sorted(component))
        return out

    def closure(self, path: str) -> set[str]:
        """Every file ``path`` reaches, itself included (tests, diagnostics)."""
        seen = {path}
        todo = [path]
        while todo:
            for dep in self.deps.get(todo.pop()) or ():
                if dep not in seen:
                    seen.add(dep)
                    todo.append(dep)
        return seen


def file_keys(
    graph: ImportGraph, shas: Mapping[str, str], *, indexer: str, project: str
) -> dict[str, str | None]:
    """path -> its per-file SCIP cache key; None when a file it reaches has unknown imports.

    ``indexer`` names the indexer version and every setting that changes its rows,
    ``project`` the project name (part of every global symbol).
    """
    component_digest: dict[str, str | None] = {}
    keys: dict[str, str | None] = {}
    for component in graph.components():  # dependencies first
        members = set(component)
        digest: str | None
        if any(graph.deps[m] is None for m in component):
            digest = None
        else:
            outside = {d for m in component for d in graph.deps[m] or () if d not in members}
            below = {component_digest[d] for d in outside}
            if None in below:
                digest = None
            else:
                h = hashlib.sha256()
                for m in component:
                    h.update(f"{m}\x1e{shas[m]}\x1f".encode())
                for d in sorted(b for b in below if b is not None):
                    h.update(f"{d}\x1d".encode())
                digest = h.hexdigest()
        for m in component:
            component_digest[m] = digest
            keys[m] = None if digest is None else _key(m, digest, indexer, project)
    return keys


def _key(path: str, digest: str, indexer: str, project: str) -> str:
    parts = ["scip-file", KEY_FORMAT, CONTRACT_VERSION, indexer, project, path, digest]
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()
