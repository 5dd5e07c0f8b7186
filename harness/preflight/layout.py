"""The project as the scanner sees it: which files are scanned, their module names, and the
deletion set (the allow-listed legacy files).

Module names follow the contract's source-root rule (CONTRACT.md §2, shared with
``repo_scan``): the scan root, ``src/`` when it holds code, and every folder with a
``pyproject.toml``/``setup.py``; directories without ``__init__.py`` are namespace packages.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Literal

from backends.extract.repo_scan import RUN_FOLDER_MARKER, module_name, source_roots
from backends.extract.repo_scan import SKIP_DIRS as _REPO_SCAN_SKIP_DIRS

# Analysed fixtures and build output are not project code; hidden folders are skipped too
# (CI folders are read by the CI scanner, not walked as code).
SKIP_DIRS: frozenset[str] = _REPO_SCAN_SKIP_DIRS | {"golden_repos", "target", "venv", ".venv"}
PY_SUFFIXES = (".py", ".pyi")
_TEST_DIRS = frozenset({"tests", "test", "testing"})


class AllowListError(ValueError):
    """An allow-list entry that is not a relative path inside the project (a usage error)."""


@dataclass(frozen=True)
class PyFile:
    """One scanned Python file."""

    rel: str
    module: str | None
    is_package: bool
    category: Literal["code", "test"]
    deleted: bool  # inside the deletion set


@dataclass(frozen=True)
class Layout:
    """The scanned files of a project, its module map and its deletion set."""

    root: Path
    allow: tuple[str, ...]
    python_files: tuple[PyFile, ...]
    deletion_set: tuple[str, ...]
    modules: dict[str, str]  # dotted module -> path of its file (.py preferred over .pyi)

    def is_deleted(self, rel: str) -> bool:
        """True when ``rel`` lies in the deletion set."""
        return in_allow(rel, self.allow)


def normalize_allow(allow: Sequence[str]) -> tuple[str, ...]:
    """Allow-list entries as clean relative POSIX paths; a trailing ``/`` marks a folder.

    Raises :class:`AllowListError` for absolute paths and paths that leave the project.
    """
    clean: list[str] = []
    for entry in allow:
        text = entry.replace("\\", "/").strip()
        pure = PurePosixPath(text)
        if not text or pure.is_absolute() or ".." in pure.parts:
            raise AllowListError(
                f"allow-list entry must be a relative path inside the project: {entry!r}"
            )
        norm = pure.as_posix()
        if norm == ".":
            raise AllowListError("allow-list entry '.' would delete the whole project")
        clean.append(norm + "/" if text.endswith("/") else norm)
    return tuple(sorted(set(clean)))


def in_allow(rel: str, allow: Sequence[str]) -> bool:
    """True when the repository path ``rel`` is an allow-listed file or lies in one's folder."""
    for entry in allow:
        base = entry.rstrip("/")
        if rel == base or rel.startswith(base + "/"):
            return True
    return False


def is_test_path(rel: str) -> bool:
    """Test code: under a ``tests``/``test`` folder, or named like a pytest module."""
    parts = rel.split("/")
    name = parts[-1]
    return (
        any(p in _TEST_DIRS for p in parts[:-1])
        or name.startswith("test_")
        or name.endswith("_test.py")
        or name == "conftest.py"
    )


def _skipped(name: str) -> bool:
    return name in SKIP_DIRS or name.startswith(".")


def walk_files(root: Path, start: str = "") -> Iterator[str]:
    """Repository-relative POSIX paths of every file below ``root/start``, sorted, skipping
    :data:`SKIP_DIRS` and hidden folders; directory symlinks are not followed."""
    # Iterative, in os.walk's top-down order: os.walk recurses once per level (3.11) and a
    # 2,000-deep tree raised RecursionError.
    base = root / start if start else root
    stack = [base]
    while stack:
        directory = stack.pop()
        try:
            with os.scandir(directory) as listing:
                entries = list(listing)
        except OSError:
            continue
        if directory != base and any(e.name == RUN_FOLDER_MARKER for e in entries):
            continue  # a codeanatomy run folder (evidence, scratch copies), not project code
        dirs: list[str] = []
        files: list[str] = []
        for entry in entries:
            try:
                is_dir = entry.is_dir()
            except OSError:
                is_dir = False
            (dirs if is_dir else files).append(entry.name)
        rel_dir = directory.relative_to(root).as_posix()
        prefix = "" if rel_dir == "." else rel_dir + "/"
        for name in sorted(files):
            yield prefix + name
        # Directory symlinks are listed by os.walk but not followed.
        subdirs = [directory / d for d in sorted(dirs) if not _skipped(d)]
        stack.extend(reversed([d for d in subdirs if not d.is_symlink()]))


def deletion_set(root: Path, allow: Sequence[str]) -> tuple[str, ...]:
    """Every existing file the allow-list schedules for deletion (compiled caches excluded)."""
    found: set[str] = set()
    for entry in allow:
        target = root / entry.rstrip("/")
        if target.is_file():
            found.add(entry.rstrip("/"))
        elif target.is_dir():
            found.update(
                rel for rel in walk_files(root, entry.rstrip("/")) if not rel.endswith(".pyc")
            )
    return tuple(sorted(found))


def discover(root: Path, allow: Sequence[str]) -> Layout:
    """Walk the project once and name every Python file's module."""
    clean = normalize_allow(allow)
    rels = [rel for rel in walk_files(root) if rel.endswith(PY_SUFFIXES)]
    roots = source_roots(root, rels)
    files: list[PyFile] = []
    modules: dict[str, str] = {}
    # .py before .pyi so that a stub never hides its implementation.
    for rel in sorted(rels, key=lambda r: (r.endswith(".pyi"), r)):
        module, is_package, _ = module_name(rel, roots)
        category: Literal["code", "test"] = "test" if is_test_path(rel) else "code"
        files.append(PyFile(rel, module, is_package, category, in_allow(rel, clean)))
        if module is not None:
            modules.setdefault(module, rel)
    return Layout(
        root=root,
        allow=clean,
        python_files=tuple(sorted(files, key=lambda f: f.rel)),
        deletion_set=deletion_set(root, clean),
        modules=modules,
    )
