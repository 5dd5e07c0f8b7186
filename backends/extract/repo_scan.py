"""Stage 0, first barrier: walk the repository, classify every Python file, name its module.

Never follows a symlink out of the root or around a loop; never reads a file twice; never
imports anything. The file system is behind :class:`FileSystem` so tests can inject faults
(for example a file that cannot be read, which root cannot simulate with permissions).

A hostile repository never hangs or crashes the scan: only regular files are read (a FIFO or
a link to ``/dev/zero`` is a ``not_regular`` row), files above the size limit are not read
(``too_large``), every walk is iterative (no recursion limit on deep trees), and a name that
is not UTF-8 gets a lossless escaped path (CONTRACT.md §1) and a ``SCAN_PATH_NOT_UTF8``
warning instead of failing the Arrow write.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from backends.extract.result import FileWarning
from backends.extract.source import (
    DEFAULT_MAX_FILE_BYTES,
    DecodeFailure,
    FileTooLarge,
    LineIndex,
    NotRegularFile,
    decode_source,
    newline_style,
    read_regular_file,
)

NAME = "repo_scan"
VERSION = "1"

RUN_FOLDER_MARKER = ".codeanatomy-out"
"""The file that marks a codeanatomy run folder (harness/run/lock.py writes it). A folder that
holds it is never scanned: an ``--out`` inside the analysed repository holds evidence and
scratch copies of the repository (scip's mirror), not the repository's own code."""

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
    """The real file system: regular files only, at most ``max_bytes`` read."""

    # A class default too, so a subclass (a test spy) that skips __init__ still works.
    max_bytes: int | None = DEFAULT_MAX_FILE_BYTES

    def __init__(self, max_bytes: int | None = DEFAULT_MAX_FILE_BYTES) -> None:
        self.max_bytes = max_bytes

    def read_bytes(self, path: Path) -> bytes:
        return read_regular_file(path, self.max_bytes)


def escape_name(name: str) -> tuple[str, bool]:
    """A file name from ``os.scandir`` as a UTF-8 string, and whether it had to be escaped.

    Bytes that are not UTF-8 arrive as surrogate escapes (PEP 383), which Arrow cannot
    store. Such a name is written with every undecodable byte as ``\\xNN`` (two lowercase hex
    digits) and every literal backslash doubled, so the original bytes can be recovered from
    the path (CONTRACT.md §1); a UTF-8 name is returned as is.
    """
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        pass
    else:
        return name, False
    out: list[str] = []
    for ch in name:
        code = ord(ch)
        if 0xDC80 <= code <= 0xDCFF:
            out.append(f"\\x{code - 0xDC00:02x}")
        elif ch == "\\":
            out.append("\\\\")
        else:
            out.append(ch)
    return "".join(out), True


@dataclass(frozen=True)
class ScannedFile:
    """One file of the scan: its row, its decoded text when ``status == "ok"``, its warnings."""

    row: dict[str, Any]
    text: str | None
    warning: FileWarning | None
    extra_warnings: tuple[FileWarning, ...] = ()

    @property
    def path(self) -> str:
        return str(self.row["path"])

    @property
    def warnings(self) -> tuple[FileWarning, ...]:
        """Every warning of the file (the path's own first, then the content's)."""
        first = (self.warning,) if self.warning is not None else ()
        return (*self.extra_warnings, *first)


@dataclass(frozen=True)
class _Entry:
    rel: str
    abs_path: Path
    is_symlink: bool
    problem: str | None  # "symlink_escape" / "symlink_loop" / "unreadable" (a folder) / None
    is_python: bool = True
    raw_name: bytes | None = None  # the path's bytes when some component is not UTF-8


def _within(path: Path, root: Path) -> bool:
    try:
        path.relative_to(root)
    except ValueError:
        return False
    return True


def resolve_link(path: Path, root: Path) -> tuple[Path | None, str | None]:
    """Resolve a symlink; (target, None) when it stays inside the root, else (None, problem)."""
    try:
        target = path.resolve(strict=True)
    except (OSError, RuntimeError):
        return None, "symlink_loop"
    if not _within(target, root):
        return None, "symlink_escape"
    return target, None


def _dir_key(path: Path) -> tuple[int, int] | None:
    """The identity of the folder at ``path`` (device, inode), following links; None when it
    cannot be stat'ed. Constant time at any depth, where ``resolve()`` walks every component
    (a 2,000-deep tree cost a minute)."""
    try:
        st = path.stat()
    except (OSError, ValueError):
        return None
    return st.st_dev, st.st_ino


def _walk(root: Path) -> Iterator[_Entry]:
    """Every .py/.pyi entry below root in sorted order, symlinks checked, loops cut, run
    folders of ours skipped."""
    root_key = _dir_key(root)
    seen_dirs = {root_key} if root_key is not None else set()
    # (directory, its escaped relative path, whether some component had to be escaped)
    stack: list[tuple[Path, str, bool]] = [(root, "", False)]
    while stack:
        directory, rel_dir, dir_escaped = stack.pop()
        try:
            with os.scandir(directory) as listing:
                entries = sorted(listing, key=lambda e: e.name)
        except OSError:
            if directory != root:
                # Its files cannot be analysed: said, not silently dropped.
                rel = rel_dir.rstrip("/")
                raw = os.fsencode(directory.relative_to(root)) if dir_escaped else None
                yield _Entry(rel, directory, False, "unreadable", is_python=False, raw_name=raw)
            continue
        if directory != root and any(e.name == RUN_FOLDER_MARKER for e in entries):
            continue
        subdirs: list[tuple[Path, str, bool]] = []
        for entry in entries:
            name, escaped = escape_name(entry.name)
            escaped = escaped or dir_escaped
            rel = f"{rel_dir}{name}"
            path = Path(entry.path)
            is_link = entry.is_symlink()
            if entry.name.endswith(PY_SUFFIXES) and not _is_dir(path, is_link):
                problem = None
                if is_link:
                    _, problem = resolve_link(path, root)
                raw = os.fsencode(path.relative_to(root)) if escaped else None
                yield _Entry(rel, path, is_link, problem, raw_name=raw)
                continue
            if entry.name in SKIP_DIRS or entry.name.startswith("."):
                continue
            if is_link:
                target, problem = resolve_link(path, root)
                if problem is not None:
                    # A directory link we refuse to follow is reported, not silently dropped.
                    yield _Entry(rel, path, True, problem, is_python=False)
                    continue
                if target is None or not target.is_dir():
                    continue
            elif not _is_real_dir(entry):
                continue
            key = _dir_key(path)
            if key is None or key in seen_dirs:
                continue
            seen_dirs.add(key)
            subdirs.append((path, rel + "/", escaped))
        # Reverse so the stack pops directories in sorted order.
        stack.extend(reversed(subdirs))


def _is_real_dir(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_dir(follow_symlinks=False)
    except OSError:
        return False


def _is_dir(path: Path, is_link: bool) -> bool:
    try:
        return path.is_dir() if not is_link else False
    except OSError:
        return False


def source_roots(root: Path, rel_paths: list[str]) -> list[str]:
    """Source roots (CONTRACT.md §2), longest first: "" , ``src/`` and project subfolders."""
    roots = {""}
    dirs_with_markers = {""}
    real_root = root.resolve()
    for found in _find_markers(root):
        if any(part in SKIP_DIRS or part.startswith(".") for part in found.parts[-8:-1]):
            continue
        try:
            target = found.resolve()
        except (OSError, RuntimeError):
            continue
        if _within(target, real_root):
            rel = "/".join(escape_name(part)[0] for part in found.parent.relative_to(root).parts)
            dirs_with_markers.add("" if rel in ("", ".") else rel + "/")
    py_dirs = {p.rsplit("/", 1)[0] + "/" if "/" in p else "" for p in rel_paths}
    for base in dirs_with_markers:
        roots.add(base)
        src = f"{base}src/"
        if any(d.startswith(src) for d in py_dirs):
            roots.add(src)
    return sorted(roots, key=lambda r: (-len(r), r))


def _find_markers(root: Path) -> Iterator[Path]:
    """Every existing entry named like a project marker below root, as ``rglob`` found them
    (every real directory, symlinked ones not followed), but iteratively: ``rglob`` recurses
    once per level and a 2,000-deep tree overflows the interpreter's stack."""
    stack = [root]
    while stack:
        directory = stack.pop()
        try:
            with os.scandir(directory) as listing:
                entries = sorted(listing, key=lambda e: e.name)
        except OSError:
            continue
        if directory != root and any(e.name == RUN_FOLDER_MARKER for e in entries):
            continue
        subdirs: list[Path] = []
        for entry in entries:
            path = Path(entry.path)
            if entry.name in _PROJECT_MARKERS and path.exists():
                yield path
            if _is_real_dir(entry):
                subdirs.append(path)
        stack.extend(reversed(subdirs))


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


_NOT_UTF8_MESSAGE = "path is not valid UTF-8; written with \\xNN escapes"
_PROBLEM_CODES = {
    "symlink_escape": ("SCAN_SYMLINK_ESCAPE", "symlink points outside the repository root"),
    "symlink_loop": ("SCAN_SYMLINK_LOOP", "symlink loop or dangling symlink"),
    "unreadable": ("SCAN_UNREADABLE", "folder cannot be listed: its files are not analysed"),
}
_DECODE_STATUS = {"SCAN_BINARY_FILE": "binary", "SCAN_DECODE_ERROR": "decode_error"}


def scan_file(entry: _Entry, roots: list[str], fs: FileSystem) -> ScannedFile:
    """Classify one entry: read it once, decode it, fill its row, or say why not."""
    row = _row(entry, roots)
    extra: tuple[FileWarning, ...] = ()
    if entry.raw_name is not None:
        detail = json.dumps({"raw_path_hex": entry.raw_name.hex()}, sort_keys=True)
        extra = (FileWarning(code="SCAN_PATH_NOT_UTF8", message=_NOT_UTF8_MESSAGE, detail=detail),)
    if entry.problem is not None:
        code, message = _PROBLEM_CODES[entry.problem]
        row["status"] = entry.problem
        return ScannedFile(row, None, FileWarning(code=code, message=message), extra)
    try:
        raw = fs.read_bytes(entry.abs_path)
    except NotRegularFile as exc:
        row["status"] = "not_regular"
        skipped = FileWarning(code="SCAN_NOT_A_REGULAR_FILE", message=str(exc))
        return ScannedFile(row, None, skipped, extra)
    except FileTooLarge as exc:
        row["status"] = "too_large"
        row["size_bytes"] = exc.size
        too_large = FileWarning(code="SCAN_FILE_TOO_LARGE", message=str(exc))
        return ScannedFile(row, None, too_large, extra)
    except OSError as exc:
        row["status"] = "unreadable"
        unreadable = FileWarning(code="SCAN_UNREADABLE", message=f"{type(exc).__name__}: {exc}")
        return ScannedFile(row, None, unreadable, extra)
    row["file_sha256"] = hashlib.sha256(raw).hexdigest()
    row["size_bytes"] = len(raw)
    try:
        decoded = decode_source(raw)
    except DecodeFailure as exc:
        row["status"] = _DECODE_STATUS[exc.code]
        row["has_bom"] = raw.startswith(b"\xef\xbb\xbf")
        return ScannedFile(row, None, FileWarning(code=exc.code, message=exc.message), extra)
    text = decoded.text
    row["encoding"] = decoded.encoding
    row["has_bom"] = decoded.has_bom
    row["newline"] = newline_style(text)
    row["line_count"] = LineIndex(text).line_count
    row["text_sha256"] = hashlib.sha256(text.encode("utf-8")).hexdigest()
    warning: FileWarning | None = None
    if not text:
        warning = FileWarning(code="SCAN_EMPTY_FILE", message="empty source file")
    return ScannedFile(row, text, warning, extra)


def scan(
    root: Path, fs: FileSystem | None = None, *, max_file_bytes: int = DEFAULT_MAX_FILE_BYTES
) -> list[ScannedFile]:
    """Scan a repository root; one :class:`ScannedFile` per Python file, sorted by path."""
    root = root.resolve()
    fs = fs or LocalFileSystem(max_file_bytes)
    entries = list(_walk(root))
    roots = source_roots(root, [e.rel for e in entries])
    files = [scan_file(entry, roots, fs) for entry in entries]
    return sorted(files, key=lambda f: f.path)
