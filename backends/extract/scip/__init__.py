"""The ``scip`` Stage-0 extractor: runs the scip-python indexer and decodes ``index.scip``.

Unlike the per-file extractors it works on the whole repository at once (cross-file
references are the point of SCIP), in one subprocess. It never raises for a missing or
failing indexer: it returns empty rows and a SCIP_UNAVAILABLE or SCIP_FAILED warning.

The indexer is the npm package pinned in ``tools/scip/package.json`` (``make scip`` in a
clone); a wheel install gets the same version on first use (``install.py``), and
``CODEANATOMY_SCIP_BIN`` points at another build.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import msgspec

from backends.extract import isolation
from backends.extract.result import FileWarning
from backends.extract.scip import install
from backends.extract.scip.decode import IndexDecodeError, decode_index
from backends.extract.scip.indexer import IndexRun, run_indexer, safe_relative

NAME = "scip"
INDEXER = f"{install.PACKAGE}@{install.PINNED}"
# Bump the leading number when the rows change for the same index; the indexer pin follows.
VERSION = f"1+{INDEXER}"

BIN_ENV = install.BIN_ENV
DEFAULT_BIN = install.CLONE_BIN


class RepoResult(msgspec.Struct, frozen=True, kw_only=True):
    """Rows of the ``scip`` table and (path, warning) pairs; path "" for repo-level warnings.

    ``network_isolated`` says whether the indexer ran without network (``unshare --net``);
    ``elapsed_s`` and ``peak_rss_mb`` describe the indexer run (null when it did not run).
    """

    rows: list[dict[str, Any]]
    warnings: list[tuple[str, FileWarning]]
    network_isolated: bool = False
    elapsed_s: float | None = None
    peak_rss_mb: float | None = None


def _detail(obj: Mapping[str, Any]) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def locate_binary(scip_bin: Path | None = None) -> Path:
    """The scip-python launcher to run (lookup order in ``install.py``), installing the pinned
    version into the user cache on first use; InstallError when there is none and it cannot
    be installed."""
    return install.find_binary(scip_bin) or install.install()


def _unavailable(message: str, **detail: Any) -> RepoResult:
    warning = FileWarning(code="SCIP_UNAVAILABLE", message=message, detail=_detail(detail))
    return RepoResult(rows=[], warnings=[("", warning)])


def _failed(run: IndexRun | None, message: str, **detail: Any) -> FileWarning:
    if run is not None:
        detail |= {
            "returncode": run.returncode,
            "timed_out": run.timed_out,
            "out_of_memory": run.out_of_memory,
            "stderr_tail": run.stderr_tail,
        }
    return FileWarning(code="SCIP_FAILED", message=message, detail=_detail(detail))


def _result(
    run: IndexRun, rows: list[dict[str, Any]], warnings: list[tuple[str, FileWarning]]
) -> RepoResult:
    return RepoResult(
        rows=rows,
        warnings=warnings,
        network_isolated=run.network_isolated,
        elapsed_s=run.elapsed_s,
        peak_rss_mb=run.peak_rss_mb,
    )


def _failure_message(run: IndexRun, timeout_s: float) -> str:
    if run.timed_out:
        return f"scip-python timed out after {timeout_s:g} s"
    if run.out_of_memory:
        return "scip-python ran out of memory (raise max_old_space_mb)"
    return f"scip-python exited with code {run.returncode}"


def extract_repo(
    repo_root: Path,
    texts: Mapping[str, str],
    work_dir: Path,
    *,
    timeout_s: float = 600,
    max_old_space_mb: int = 4096,
    scip_bin: Path | None = None,
) -> RepoResult:
    """Index the scanned Python files of ``repo_root`` with scip-python; never raises.

    ``texts`` maps repo-relative POSIX paths of the scanned, decodable Python files to their
    canonical text; only those files are indexed (from a copy under ``work_dir``), so the
    repository is only named, never read or written here.
    """
    try:
        binary = locate_binary(scip_bin)
    except install.InstallError as exc:
        return _unavailable(str(exc), user_dir=str(install.user_dir()))
    if not (binary.is_file() and os.access(binary, os.X_OK)):
        return _unavailable("scip-python is not installed at the given path", binary=str(binary))
    node = isolation.which_trusted("node")
    if node is None:
        return _unavailable("node is not on PATH; scip-python cannot run", binary=str(binary))

    warnings: list[tuple[str, FileWarning]] = []
    safe = {p: t for p, t in texts.items() if safe_relative(p)}
    for path in sorted(set(texts) - set(safe)):
        warnings.append(
            (
                "",
                FileWarning(
                    code="SCIP_DOCUMENT_SKIPPED",
                    message="path is not repo-relative; not indexed",
                    detail=_detail({"relative_path": path}),
                ),
            )
        )
    if not safe:
        return RepoResult(rows=[], warnings=warnings)

    try:
        run = run_indexer(
            safe,
            work_dir,
            scip_bin=binary,
            node_bin=Path(node).resolve(),
            project_name=repo_root.resolve().name or "repo",
            timeout_s=timeout_s,
            max_old_space_mb=max_old_space_mb,
        )
    except (OSError, ValueError, subprocess.SubprocessError) as exc:
        warning = _failed(None, f"scip-python could not be started: {exc}", binary=str(binary))
        return RepoResult(rows=[], warnings=[*warnings, ("", warning)])

    if run.index_path is None:
        warning = _failed(run, _failure_message(run, timeout_s))
        return _result(run, [], [*warnings, ("", warning)])
    try:
        decoded = decode_index(run.index_path.read_bytes(), safe)
    except (OSError, ValueError, IndexDecodeError) as exc:
        warning = _failed(run, f"index.scip could not be decoded: {exc}")
        return _result(run, [], [*warnings, ("", warning)])
    return _result(run, decoded.rows, [*warnings, *decoded.warnings])
