"""The ``scip`` Stage-0 extractor: runs the scip-python indexer and decodes ``index.scip``.

Unlike the per-file extractors it needs the whole repository at once (cross-file references
are the point of SCIP). It never raises for a missing or failing indexer: it returns empty
rows and a SCIP_UNAVAILABLE or SCIP_FAILED warning.

The files to index are split into *shards* (``shard.py``), one sandboxed scip-python process
each, run at once, every one with the whole repository in its mirror; each index is cut
into one part per file (``decode.py``) and the parts are assembled into the table's rows
(``merge.py``). A shard that fails costs its own files only. Parts are also what the
per-file cache keeps (``stage.py``, keyed by the import closure in ``closure.py``).

The indexer is the npm package pinned in ``tools/scip/package.json`` (``make scip`` in a
clone); a wheel install gets the same version on first use (``install.py``), and
``CODEANATOMY_SCIP_BIN`` points at another build.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path
from typing import Any

import msgspec

from backends.extract import isolation
from backends.extract.result import FileWarning
from backends.extract.scip import install, shard
from backends.extract.scip.decode import IndexDecodeError, Parts, decode_parts
from backends.extract.scip.indexer import IndexRun, run_indexer, safe_relative
from backends.extract.scip.merge import FilePart, assemble

NAME = "scip"
INDEXER = f"{install.PACKAGE}@{install.PINNED}"
# Bump the leading number when the rows change for the same index; the indexer pin follows.
VERSION = f"1+{INDEXER}"

BIN_ENV = install.BIN_ENV
DEFAULT_BIN = install.CLONE_BIN


class RepoResult(msgspec.Struct, frozen=True, kw_only=True):
    """Rows of the ``scip`` table and (path, warning) pairs; path "" for repo-level warnings.

    ``network_isolated`` says whether the indexer ran without network (``unshare --net``);
    ``elapsed_s`` (the longest shard) and ``peak_rss_mb`` (summed over the shards, which run
    at once) describe the indexer runs (null when none ran).
    """

    rows: list[dict[str, Any]]
    warnings: list[tuple[str, FileWarning]]
    network_isolated: bool = False
    elapsed_s: float | None = None
    peak_rss_mb: float | None = None


class Indexed(msgspec.Struct, frozen=True, kw_only=True):
    """What indexing a set of target files gave: a part per target of every shard that
    succeeded, the targets of the shards that failed (no part: no rows), warnings, and how
    the runs went."""

    parts: dict[str, FilePart]
    failed: list[str]
    warnings: list[tuple[str, FileWarning]]
    shards: int = 0
    unavailable: bool = False
    network_isolated: bool = False
    elapsed_s: float | None = None
    peak_rss_mb: float | None = None

    def result(self) -> RepoResult:
        """The ``scip`` rows of these parts alone (no other source of parts)."""
        rows, part_warnings = assemble(self.parts.values())
        return RepoResult(
            rows=rows,
            warnings=sorted_warnings([*self.warnings, *part_warnings]),
            network_isolated=self.network_isolated,
            elapsed_s=self.elapsed_s,
            peak_rss_mb=self.peak_rss_mb,
        )


def sorted_warnings(warnings: list[tuple[str, FileWarning]]) -> list[tuple[str, FileWarning]]:
    """Warnings in the one order every result uses."""
    return sorted(warnings, key=lambda pw: (pw[0], pw[1].code, pw[1].detail or "", pw[1].message))


def _detail(obj: Mapping[str, Any]) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def locate_binary(scip_bin: Path | None = None) -> Path:
    """The scip-python launcher to run (lookup order in ``install.py``), installing the pinned
    version into the user cache on first use; InstallError when there is none and it cannot
    be installed."""
    return install.find_binary(scip_bin) or install.install()


def _unavailable(message: str, targets: list[str], **detail: Any) -> Indexed:
    warning = FileWarning(code="SCIP_UNAVAILABLE", message=message, detail=_detail(detail))
    return Indexed(parts={}, failed=targets, warnings=[("", warning)], unavailable=True)


def _failed(run: IndexRun | None, message: str, **detail: Any) -> FileWarning:
    if run is not None:
        detail |= {
            "returncode": run.returncode,
            "timed_out": run.timed_out,
            "out_of_memory": run.out_of_memory,
            "stderr_tail": run.stderr_tail,
        }
    return FileWarning(code="SCIP_FAILED", message=message, detail=_detail(detail))


def _failure_message(run: IndexRun, timeout_s: float) -> str:
    if run.timed_out:
        return f"scip-python timed out after {timeout_s:g} s"
    if run.out_of_memory:
        return "scip-python ran out of memory (raise max_old_space_mb)"
    return f"scip-python exited with code {run.returncode}"


def _shard_outcome(
    outcome: IndexRun | BaseException,
    shard: list[str],
    safe: Mapping[str, str],
    *,
    binary: Path,
    timeout_s: float,
    where: dict[str, Any],
) -> tuple[Parts | None, list[tuple[str, FileWarning]]]:
    """The parts (None: the shard failed) and warnings of one shard; a failed shard gives
    one SCIP_FAILED warning, whose detail names the shard and its files (``where``) when
    the run was not one whole-repository run."""
    label = f"shard {where['shard'] + 1}/{where['shards']}: " if where else ""
    if isinstance(outcome, (OSError, ValueError, subprocess.SubprocessError)):
        message = f"{label}scip-python could not be started: {outcome}"
        return None, [("", _failed(None, message, binary=str(binary), **where))]
    if not isinstance(outcome, IndexRun):
        message = f"{label}{type(outcome).__name__}: {outcome}"
        return None, [("", _failed(None, message, **where))]
    if outcome.index_path is None:
        message = label + _failure_message(outcome, timeout_s)
        return None, [("", _failed(outcome, message, **where))]
    try:
        data = outcome.index_path.read_bytes()
        decoded = decode_parts(data, safe, shard if where else None)
        return decoded, decoded.warnings
    except (OSError, ValueError, IndexDecodeError) as exc:
        message = f"{label}index.scip could not be decoded: {exc}"
        return None, [("", _failed(outcome, message, **where))]


def index_files(
    repo_root: Path,
    texts: Mapping[str, str],
    work_dir: Path,
    *,
    targets: Collection[str] | None = None,
    shards: int = 1,
    timeout_s: float = 600,
    max_old_space_mb: int = 4096,
    scip_bin: Path | None = None,
) -> Indexed:
    """Index ``targets`` (None: every file of ``texts``) with scip-python, with every file of
    ``texts`` in the mirror; never raises.

    The targets are split into ``shards`` (0: automatic, see ``shard.shard_count``) runs
    of the walk order that index at once. A shard that fails costs its own targets only:
    they get no part (no rows) and the shard one SCIP_FAILED warning naming it and them.
    """
    safe, warnings = split_safe(texts)
    wanted = set(safe) if targets is None else set(targets) & set(safe)
    if targets is not None and not wanted:
        return Indexed(parts={}, failed=[], warnings=warnings)  # nothing asked: no indexer
    try:
        binary = locate_binary(scip_bin)
    except install.InstallError as exc:
        return _unavailable(str(exc), sorted(wanted), user_dir=str(install.user_dir()))
    if not (binary.is_file() and os.access(binary, os.X_OK)):
        return _unavailable(
            "scip-python is not installed at the given path", sorted(wanted), binary=str(binary)
        )
    node = isolation.which_trusted("node")
    if node is None:
        return _unavailable(
            "node is not on PATH; scip-python cannot run", sorted(wanted), binary=str(binary)
        )
    if not wanted:
        return Indexed(parts={}, failed=[], warnings=warnings)

    sizes = {p: len(safe[p]) for p in wanted}
    runs = shard.plan(sizes, shard.shard_count(shards, len(sizes)))
    whole = len(runs) == 1 and wanted == set(safe)

    def run_one(run_targets: Sequence[str] | None, run_dir: Path) -> IndexRun:
        return run_indexer(
            safe,
            run_dir,
            scip_bin=binary,
            node_bin=Path(node).resolve(),
            project_name=project_name(repo_root),
            timeout_s=timeout_s,
            max_old_space_mb=max_old_space_mb,
            targets=run_targets,
        )

    outcomes = shard.run_shards(runs, work_dir, run_one, whole=whole)
    parts: dict[str, FilePart] = {}
    failed: list[str] = []
    for k, (targets_k, outcome) in enumerate(zip(runs, outcomes, strict=True)):
        where: dict[str, Any] = {}
        if not whole:
            where = {"shard": k, "shards": len(runs), "files": len(targets_k), "paths": targets_k}
        got, shard_warnings = _shard_outcome(
            outcome, targets_k, safe, binary=binary, timeout_s=timeout_s, where=where
        )
        warnings.extend(shard_warnings)
        if got is None:
            failed.extend(targets_k)
        else:
            parts.update(got.parts)
    ran = [o for o in outcomes if isinstance(o, IndexRun)]
    peaks = [o.peak_rss_mb for o in ran if o.peak_rss_mb is not None]
    return Indexed(
        parts=parts,
        failed=sorted(failed),
        warnings=warnings,
        shards=len(runs),
        network_isolated=bool(ran) and all(o.network_isolated for o in ran),
        elapsed_s=max((o.elapsed_s for o in ran), default=None),
        peak_rss_mb=round(sum(peaks), 1) if peaks else None,
    )


def split_safe(
    texts: Mapping[str, str],
) -> tuple[dict[str, str], list[tuple[str, FileWarning]]]:
    """The texts whose path is safely repo-relative, and a SCIP_DOCUMENT_SKIPPED warning for
    each of the others (never indexed)."""
    safe = {p: t for p, t in texts.items() if safe_relative(p)}
    warnings: list[tuple[str, FileWarning]] = [
        (
            "",
            FileWarning(
                code="SCIP_DOCUMENT_SKIPPED",
                message="path is not repo-relative; not indexed",
                detail=_detail({"relative_path": path}),
            ),
        )
        for path in sorted(set(texts) - set(safe))
    ]
    return safe, warnings


def project_name(repo_root: Path) -> str:
    """The ``--project-name`` of a repository (part of every global symbol)."""
    return repo_root.resolve().name or "repo"


def extract_repo(
    repo_root: Path,
    texts: Mapping[str, str],
    work_dir: Path,
    *,
    timeout_s: float = 600,
    max_old_space_mb: int = 4096,
    scip_bin: Path | None = None,
    shards: int = 1,
) -> RepoResult:
    """Index the scanned Python files of ``repo_root`` with scip-python; never raises.

    ``texts`` maps repo-relative POSIX paths of the scanned, decodable Python files to their
    canonical text; only those files are indexed (from a copy under ``work_dir``), so the
    repository is only named, never read or written here. ``shards`` as in
    :func:`index_files`: the rows are those of one whole run (see ``merge.py`` for what may
    differ when scip-python's order-dependent output meets a shard boundary).
    """
    indexed = index_files(
        repo_root,
        texts,
        work_dir,
        shards=shards,
        timeout_s=timeout_s,
        max_old_space_mb=max_old_space_mb,
        scip_bin=scip_bin,
    )
    if indexed.unavailable:
        return RepoResult(rows=[], warnings=indexed.warnings)
    return indexed.result()
