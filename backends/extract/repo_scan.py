"""Stage 0, first barrier: walk the repository, classify every Python file, name its module.

Never follows a symlink out of the root or around a loop; never reads a file twice; never
imports anything. The file system is behind :class:`FileSystem` so tests can inject faults
(for example a file that cannot be read, which root cannot simulate with permissions).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from backends.extract.result import FileWarning
from backends.extract.source import DecodeFailure, LineIndex, decode_source, newline_style

NAME = "repo_scan"
VERSION = "1"

SKIP_DIRS = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        "__pycache__",
        ".venv",
        "venv",
        "node_modules",
        ".tox",
        ".mypy_cache",
        ".pytest_cache",
        ".ruff_cache",
    }
)
PY_SUFFIXES = (".py", ".pyi")
_PROJECT_MARKERS = ("setup.py", "pyproject.toml")


class FileSystem(Protocol):
    """The one I/O port of the scanner."""

    def read_bytes(self, path: Path) -> bytes: ...


class LocalFileSystem:
    """The real file system."""

    def read_bytes(self, path: Path) -> bytes:
        return path.read_bytes()


@dataclass(frozen=True)
class ScannedFile:
    """One file of the scan: its row, its decoded text when ``status == "ok"``, its warning."""

    row: dict[str, Any]
    text: str | None
    warning: FileWarning | None

    @property
    def path(self) -> str:
        return str(self.row["path"])


@dataclass(frozen=True)
class _Entry:
    rel: str
    abs_path: Path
    is_symlink: bool
    problem: str | None  # "symlink_escape" / "symlink_loop" / None
    is_python: bool = True


def _within(path: Path, root: Path) -> bool:
    try:
        path.relative_to(root)
    except ValueError:
        return False
    return True


def _resolve_link(path: Path, root: Path) -> tuple[Path | None, str | None]:
    """Resolve a symlink; (target, None) when it stays inside the root, else (None, problem)."""
    try:
        target = path.resolve(strict=True)
    except (OSError, RuntimeError):
        return None, "symlink_loop"
    if not _within(target, root):
        return None, "symlink_escape"
    return target, None


def _walk(root: Path) -> Iterator[_Entry]:
    """Every .py/.pyi entry below root in sorted order, symlinks checked, loops cut."""
    seen_dirs = {root}
    stack: list[tuple[Path, str]] = [(root, "")]
    while stack:
        directory, rel_dir = stack.pop()
        try:
            entries = sorted(os.scandir(directory), key=lambda e: e.name)
        except OSError:
            continue
        subdirs: list[tuple[Path, str]] = []
        for entry in entries:
            rel = f"{rel_dir}{entry.name}"
            path = Path(entry.path)
            is_link = entry.is_symlink()
            if entry.name.endswith(PY_SUFFIXES) and not _is_dir(path, is_link):
                problem = None
                if is_link:
                    _, problem = _resolve_link(path, root)
                yield _Entry(rel, path, is_link, problem)
                continue
            if entry.name in SKIP_DIRS or entry.name.startswith("."):
                continue
            if is_link:
                target, problem = _resolve_link(path, root)
                if problem is not None:
                    # A directory link we refuse to follow is reported, not silently dropped.
                    yield _Entry(rel, path, True, problem, is_python=False)
                    continue
                if target is None or not target.is_dir() or target in seen_dirs:
                    continue
                seen_dirs.add(target)
                subdirs.append((path, rel + "/"))
            elif entry.is_dir(follow_symlinks=False):
                real = path.resolve()
                if real in seen_dirs:
                    continue
                seen_dirs.add(real)
                subdirs.append((path, rel + "/"))
        # Reverse so the stack pops directories in sorted order.
        stack.extend(reversed(subdirs))


def _is_dir(path: Path, is_link: bool) -> bool:
    try:
        return path.is_dir() if not is_link else False
    except OSError:
        return False


def source_roots(root: Path, rel_paths: list[str]) -> list[str]:
    """Source roots (CONTRACT.md §2), longest first: "" , ``src/`` and project subfolders."""
    roots = {""}
    dirs_with_markers = {""}
    for marker in _PROJECT_MARKERS:
        for found in root.rglob(marker):
            if any(part in SKIP_DIRS or part.startswith(".") for part in found.parts[-8:-1]):
                continue
            if _within(found.resolve(), root.resolve()):
                rel = found.parent.relative_to(root).as_posix()
                dirs_with_markers.add("" if rel == "." else rel + "/")
    py_dirs = {p.rsplit("/", 1)[0] + "/" if "/" in p else "" for p in rel_paths}
    for base in dirs_with_markers:
        roots.add(base)
        src = f"{base}src/"
        if any(d.startswith(src) for d in py_dirs):
            roots.add(src)
    return sorted(roots, key=lambda r: (-len(r), r))


def module_name(rel: str, roots: list[str]) -> tuple[str | None, bool, str]:
    """(module, is_package, source_root) of a repo-relative .py/.pyi path."""
    root = next(r for r in roots if rel.startswith(r))
    inner = rel[len(root) :]
    stem = inner.rsplit(".", 1)[0]
    parts = stem.split("/")
    is_package = parts[-1] == "__init__"
    if is_package:
        parts = parts[:-1]
    if not parts or not all(p.isidentifier() for p in parts):
        return None, is_package, root.rstrip("/")
    return ".".join(parts), is_package, root.rstrip("/")


def _row(entry: _Entry, roots: list[str]) -> dict[str, Any]:
    module, is_package, root = (
        module_name(entry.rel, roots) if entry.is_python else (None, False, None)
    )
    return {
        "path": entry.rel,
        "status": "ok",
        "file_sha256": None,
        "size_bytes": None,
        "is_python": entry.is_python,
        "is_symlink": entry.is_symlink,
        "module": module,
        "is_package": is_package,
        "source_root": root,
        "encoding": None,
        "has_bom": False,
        "newline": None,
        "line_count": None,
        "text_sha256": None,
    }


_PROBLEM_CODES = {
    "symlink_escape": ("SCAN_SYMLINK_ESCAPE", "symlink points outside the repository root"),
    "symlink_loop": ("SCAN_SYMLINK_LOOP", "symlink loop or dangling symlink"),
}
_DECODE_STATUS = {"SCAN_BINARY_FILE": "binary", "SCAN_DECODE_ERROR": "decode_error"}


def scan_file(entry: _Entry, roots: list[str], fs: FileSystem) -> ScannedFile:
    """Classify one entry: read it once, decode it, fill its row, or say why not."""
    row = _row(entry, roots)
    if entry.problem is not None:
        code, message = _PROBLEM_CODES[entry.problem]
        row["status"] = entry.problem
        return ScannedFile(row, None, FileWarning(code=code, message=message))
    try:
        raw = fs.read_bytes(entry.abs_path)
    except OSError as exc:
        row["status"] = "unreadable"
        unreadable = FileWarning(code="SCAN_UNREADABLE", message=f"{type(exc).__name__}: {exc}")
        return ScannedFile(row, None, unreadable)
    row["file_sha256"] = hashlib.sha256(raw).hexdigest()
    row["size_bytes"] = len(raw)
    try:
        decoded = decode_source(raw)
    except DecodeFailure as exc:
        row["status"] = _DECODE_STATUS[exc.code]
        row["has_bom"] = raw.startswith(b"\xef\xbb\xbf")
        return ScannedFile(row, None, FileWarning(code=exc.code, message=exc.message))
    text = decoded.text
    row["encoding"] = decoded.encoding
    row["has_bom"] = decoded.has_bom
    row["newline"] = newline_style(text)
    row["line_count"] = LineIndex(text).line_count
    row["text_sha256"] = hashlib.sha256(text.encode("utf-8")).hexdigest()
    warning: FileWarning | None = None
    if not text:
        warning = FileWarning(code="SCAN_EMPTY_FILE", message="empty source file")
    return ScannedFile(row, text, warning)


def scan(root: Path, fs: FileSystem | None = None) -> list[ScannedFile]:
    """Scan a repository root; one :class:`ScannedFile` per Python file, sorted by path."""
    root = root.resolve()
    fs = fs or LocalFileSystem()
    entries = list(_walk(root))
    roots = source_roots(root, [e.rel for e in entries])
    files = [scan_file(entry, roots, fs) for entry in entries]
    return sorted(files, key=lambda f: f.path)
