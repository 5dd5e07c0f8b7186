"""Validation of user-given paths and URIs where they enter codeanatomy (CLI and library).

Every command that takes a repository, a run, an evidence folder or an output folder passes it
through one of these functions first, so that a user's mistake is refused before any work
starts, with a stable code and one clear message (exit 2 on the command line), instead of
surfacing later as an internal error or, worse, as a gate that passes over nothing. Each
function returns the path made absolute, so that what follows never depends on the working
folder.

Nothing here creates a file or a folder: ``out_dir`` only checks that the folder could be
created where asked.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections import deque
from collections.abc import Iterable
from pathlib import Path
from typing import Final

from harness.errors import UsageError

REPO_NOT_FOUND: Final = "REPO_NOT_FOUND"
REPO_NOT_A_DIRECTORY: Final = "REPO_NOT_A_DIRECTORY"
REPO_HAS_NO_PYTHON: Final = "REPO_HAS_NO_PYTHON"
RUN_NOT_FOUND: Final = "RUN_NOT_FOUND"
NOT_A_RUN: Final = "NOT_A_RUN"
EVIDENCE_MISSING: Final = "EVIDENCE_MISSING"
UNSUPPORTED_URI: Final = "UNSUPPORTED_URI"
OUT_NOT_A_DIRECTORY: Final = "OUT_NOT_A_DIRECTORY"
OUT_NOT_WRITABLE: Final = "OUT_NOT_WRITABLE"
REPO_NAME_CLASH: Final = "REPO_NAME_CLASH"
INPUT_MISSING: Final = "INPUT_MISSING"
PATH_NOT_UTF8: Final = "PATH_NOT_UTF8"
"""An input other than the above (a parity history, a benchmark report) does not exist."""

USAGE_CODES: Final[dict[str, str]] = {
    REPO_NOT_FOUND: "the repository path does not exist",
    REPO_NOT_A_DIRECTORY: "the repository path is not a folder",
    REPO_HAS_NO_PYTHON: "the repository holds no .py or .pyi file",
    RUN_NOT_FOUND: "the run directory does not exist",
    NOT_A_RUN: "the folder is not a run directory (no readable run.json)",
    EVIDENCE_MISSING: "the evidence folder lacks Stage-0 Delta tables",
    UNSUPPORTED_URI: "an object-store URI where only a local path is accepted (a repository)",
    OUT_NOT_A_DIRECTORY: "the output path is a file, or lies below one",
    OUT_NOT_WRITABLE: "the output folder cannot be created or written to",
    REPO_NAME_CLASH: "two repositories share a folder name (their runs would collide)",
    INPUT_MISSING: "a required input file or table does not exist",
    PATH_NOT_UTF8: "a repository, run or output path is not valid UTF-8",
}

# A scheme as in RFC 3986, at least two characters (so that a Windows drive letter "C:" is a
# path), followed by "/": "s3://b/p" as typed, and "s3:/b/p" once pathlib has collapsed the
# double slash. "run:1" (no slash) stays a legal local name.
_URI = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]+):/")

# The walk looking for a Python file stops after this many folders: a huge tree that has no
# Python file near its top is still accepted rather than scanned in full at the boundary
# (extraction then reports what it finds).
_MAX_DIRS_WALKED: Final = 5_000


def _reject_uri(value: str | Path, what: str) -> None:
    match = _URI.match(str(value))
    if match:
        raise UsageError(
            UNSUPPORTED_URI,
            f"{what} {value}: an object-store URI ({match.group(1)}://) is not accepted here; "
            "give a local path (s3:// is accepted by --out, by the runs `compare` reads and by "
            "[parity].history)",
        )


def _absolute(value: str | Path, base: Path | None = None) -> Path:
    path = Path(value).expanduser()
    if base is not None:
        path = base / path  # an absolute value stays itself
    resolved = path.resolve()
    try:
        str(resolved).encode("utf-8")
    except UnicodeEncodeError:
        # run.json, the tables and the reports record these paths as text. (Names inside an
        # analysed repository may be any bytes: the contract escapes them.)
        shown = os.fsencode(resolved).decode("utf-8", "backslashreplace")
        raise UsageError(
            PATH_NOT_UTF8,
            f"{shown}: not valid UTF-8; codeanatomy records this path as text, so choose or "
            "rename a folder whose path is UTF-8",
        ) from None
    return resolved


def _skipped(name: str) -> bool:
    from backends.extract.repo_scan import SKIP_DIRS

    return name.startswith(".") or name in SKIP_DIRS


def has_python(root: Path, max_dirs: int = _MAX_DIRS_WALKED) -> bool:
    """Whether a ``.py``/``.pyi`` file lies below ``root`` (a folder), breadth first, without
    following symbolic links to folders and without entering folders extraction skips (hidden
    ones, ``node_modules``, ``.venv``, ``__pycache__``...). Past ``max_dirs`` folders the answer
    is yes: the boundary does not pay for a full scan, extraction reports what it finds."""
    from backends.extract.repo_scan import PY_SUFFIXES

    queue: deque[Path] = deque([root])
    walked = 0
    while queue:
        if walked >= max_dirs:
            return True
        folder = queue.popleft()
        walked += 1
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError:
            continue  # an unreadable folder is reported by extraction, not here
        for entry in entries:
            try:
                if entry.is_dir(follow_symlinks=False):
                    if not _skipped(entry.name):
                        queue.append(Path(entry.path))
                elif entry.name.endswith(PY_SUFFIXES) and entry.is_file():
                    return True
            except OSError:
                continue
    return False


def repo_dir(path: str | Path) -> Path:
    """A repository to analyse: an existing folder holding at least one Python file."""
    _reject_uri(path, "repository")
    root = _absolute(path)
    if not root.exists():
        raise UsageError(REPO_NOT_FOUND, f"repository {path} does not exist")
    if not root.is_dir():
        raise UsageError(REPO_NOT_A_DIRECTORY, f"repository {path} is not a folder")
    if not has_python(root):
        raise UsageError(
            REPO_HAS_NO_PYTHON,
            f"repository {path} holds no .py or .pyi file "
            "(hidden folders, node_modules, .venv and __pycache__ are not searched)",
        )
    return root


def repo_dirs(paths: Iterable[str | Path]) -> tuple[Path, ...]:
    """``repo_dir`` of each path, in order (the first bad one is reported).

    Runs over several repositories go to one folder per repository name, so two repositories
    with the same folder name (or one given twice) would overwrite each other's run.
    """
    roots = tuple(repo_dir(p) for p in paths)
    seen: dict[str, Path] = {}
    for root in roots:
        if seen.get(root.name) == root:
            raise UsageError(REPO_NAME_CLASH, f"repository {root} is given twice")
        if root.name in seen:
            raise UsageError(
                REPO_NAME_CLASH,
                f"repositories {seen[root.name]} and {root} share the name {root.name!r}: "
                "their runs would go to the same folder",
            )
        seen[root.name] = root
    return roots


def out_dir(
    value: str | Path,
    what: str = "output folder",
    base: Path | None = None,
    *,
    create: bool = False,
) -> Path:
    """Where a command may write: a local path (no URI) that is a folder or can become one;
    a relative ``value`` is taken from ``base`` (a configuration file's folder), else from the
    working folder.

    Refusing a URI here also keeps pathlib from turning ``s3://b/p`` into a local folder
    ``s3:/b/p``. With ``create`` the folder is created and proved writable (a command calls it
    last, once every other input is accepted); otherwise nothing is created.
    """
    _reject_uri(value, what)
    folder = _absolute(value, base)
    if folder.exists() and not folder.is_dir():
        raise UsageError(OUT_NOT_A_DIRECTORY, f"{what} {value} is a file, not a folder")
    for parent in folder.parents:
        if parent.exists():
            if not parent.is_dir():
                raise UsageError(
                    OUT_NOT_A_DIRECTORY, f"{what} {value}: {parent} is a file, not a folder"
                )
            break
    if create:
        # Permission bits say little (root passes os.access on /proc and read-only mounts):
        # only creating something proves the folder usable, before any work is done.
        try:
            folder.mkdir(parents=True, exist_ok=True)
            tempfile.TemporaryDirectory(prefix=".codeanatomy-probe-", dir=folder).cleanup()
        except OSError as exc:
            raise UsageError(
                OUT_NOT_WRITABLE, f"{what} {value} cannot be written to: {exc.strerror or exc}"
            ) from exc
    return folder


def _child_runs(folder: Path) -> list[str]:
    try:
        return sorted(c.name for c in folder.iterdir() if (c / "run.json").is_file())
    except OSError:
        return []


def run_dir(path: str | Path) -> Path:
    """A run directory: a folder holding a readable ``run.json`` (DESIGN §3).

    A shadow run (``OUT/legacy``, ``OUT/rust``, ``OUT/report``) is not itself a run; the
    message names the runs it holds.
    """
    import msgspec

    from harness.run.manifest import read_manifest

    _reject_uri(path, "run")
    folder = _absolute(path)
    if not folder.exists():
        raise UsageError(RUN_NOT_FOUND, f"run {path} does not exist")
    if not folder.is_dir():
        raise UsageError(NOT_A_RUN, f"{path} is a file, not a run directory")
    manifest = folder / "run.json"
    if not manifest.is_file():
        children = _child_runs(folder)
        hint = (
            f"; it holds the runs {', '.join(children)} (e.g. compare "
            f"{folder / children[0]} {folder / children[-1]})"
            if children
            else "; a run directory is what build --out writes (extract alone writes none)"
        )
        raise UsageError(NOT_A_RUN, f"{path} is not a run directory: no run.json{hint}")
    try:
        read_manifest(manifest)
    except (OSError, msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise UsageError(NOT_A_RUN, f"{manifest} is not a readable run manifest: {exc}") from exc
    return folder


def evidence_dir(path: str | Path) -> Path:
    """A Stage-0 evidence folder: every evidence table of the contract as a Delta table."""
    from backends.contract.schemas import EVIDENCE_TABLES

    _reject_uri(path, "evidence")
    folder = _absolute(path)
    if not folder.exists():
        raise UsageError(EVIDENCE_MISSING, f"evidence folder {path} does not exist")
    if not folder.is_dir():
        raise UsageError(EVIDENCE_MISSING, f"evidence {path} is a file, not a folder")
    missing = [t for t in EVIDENCE_TABLES if not (folder / t / "_delta_log").is_dir()]
    if missing:
        hint = ""
        if (folder / "evidence").is_dir():
            hint = f" (a run directory? its evidence is {folder / 'evidence'})"
        raise UsageError(
            EVIDENCE_MISSING,
            f"{path} is not an evidence folder: no Delta table for {', '.join(missing)}{hint}",
        )
    return folder
