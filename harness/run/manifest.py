"""The run manifest ``OUT/run.json`` (DESIGN §3).

Everything needed to replay and compare a run: backend and versions, the spec hash, a content
fingerprint of the input repository, every evidence input and output with its Delta version,
rows, schema hash and content fingerprint (CONTRACT §14), the warnings by code, and timings in
seconds (``extract_s``, ``semantic_s``, ``total_s`` at least).

Each table also records ``version_before``, its version in the run folder before the build
(null in a fresh folder): a build into a folder that already holds one updates its tables, and
the Delta versions ``version_before + 1 .. delta_version`` hold exactly what it changed (read by
``codeanatomy changes``; equal versions: the build changed nothing in that table).

A run directory is relocatable (DESIGN §3): each table is named by ``path``, a POSIX path
relative to the run directory, and read where the run is now (:func:`locate`). ``uri`` keeps the
absolute location at build time, as provenance only. In shadow mode a side's inputs live in the
shared ``OUT/evidence``, so their path is ``../evidence/<table>``: one leading ``..`` (the shadow
root holding the side) is the most a path may climb.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import posixpath
import tempfile
from collections.abc import Mapping
from pathlib import Path, PurePosixPath
from typing import Literal
from urllib.parse import urlsplit

import msgspec
import pyarrow as pa

from backends.contract.fingerprint import VERSION as _FINGERPRINT_VERSION
from backends.contract.fingerprint import fingerprint, schema_hash
from backends.contract.result import OperatorMetric, RunWarning
from backends.contract.schemas import EVIDENCE_TABLES
from backends.extract.delta import current_version, read_note, read_table, write_note
from harness.run.request import BackendBuild, BuildRequest
from harness.versions import versions

FINGERPRINT_VERSION = _FINGERPRINT_VERSION.decode()

MANIFEST_VERSION = 2
"""2: tables carry ``path`` relative to the run directory. 1: absolute ``uri`` only (still read).

``version_before`` was added within version 2 without a bump: it is optional and additive
(msgspec ignores it in a harness that does not know it, and an older manifest decodes with it
unset), and it changes how no table is located or read."""

#: The run-directory folder of each manifest list (DESIGN §3 layout); the v1 fallback location.
STAGE_DIRS: dict[str, str] = {"inputs": "evidence", "outputs": "outputs"}

Section = Literal["inputs", "outputs"]


def _check_relative(path: str) -> None:
    """Reject a ``path`` that is absolute, not normalized, empty or climbs more than one level.

    A run.json may come from a downloaded artifact: a path must not reach outside the run
    directory or the shadow root around it.
    """
    pure = PurePosixPath(path)
    if "\\" in path or pure.is_absolute() or path != posixpath.normpath(path):
        raise ValueError(f"table path {path!r} is not a normalized relative POSIX path")
    parts = pure.parts
    climbs = len(parts) - len(tuple(p for p in parts if p != ".."))
    if not parts or climbs > 1 or (climbs == 1 and parts[0] != "..") or parts == ("..",):
        raise ValueError(f"table path {path!r} leaves the run directory and its shadow root")


class TableEntry(msgspec.Struct, frozen=True, kw_only=True):
    """One Delta table of the run, pinned to the version the run read or wrote."""

    table: str
    path: str | None = None
    """POSIX path relative to the run directory (v2+); None in v1, or for a table outside the
    run directory and its shadow root (not relocatable)."""
    uri: str
    """Absolute location when the run was written: provenance, read only without ``path``."""
    delta_version: int
    """The version the run read (inputs) or left (outputs): the version *after* the build."""
    rows: int
    schema_hash: str
    fingerprint: str
    version_before: int | msgspec.UnsetType | None = msgspec.UNSET
    """The table's version in the run folder just before the build: null when the table did not
    exist yet (a fresh folder), equal to ``delta_version`` when the build left it unchanged;
    unset (absent from run.json) in a manifest written before it was recorded."""

    def __post_init__(self) -> None:
        # Raised here, a bad path is a msgspec.ValidationError of read_manifest, like any
        # other malformed run.json.
        if self.path is not None:
            _check_relative(self.path)


class RepoEntry(msgspec.Struct, frozen=True, kw_only=True):
    """The analysed repository: where, how many files, and a fingerprint of its content."""

    path: str
    files: int
    python_files_ok: int
    fingerprint: str


class ServedBy(msgspec.Struct, frozen=True, kw_only=True):
    """Which backend served the build and why (gateway routing, DESIGN §8)."""

    backend: str
    source: str
    reason: str


class Resources(msgspec.Struct, frozen=True, kw_only=True):
    """Peak memory of the build, in MiB: what a bounded-memory build must bound.

    ``peak_rss_mb`` is the process that wrote ``run.json``, from its start to the end of the
    build (in a suite of several repositories, the earlier ones too): Linux's ``VmHWM``, which
    starts afresh at ``exec`` (``getrusage`` elsewhere, which on Linux would carry over the
    resident set of the parent that started us). ``children_peak_rss_mb`` is the largest
    ``getrusage`` peak among its finished child processes (extraction workers, the SCIP
    indexer, an isolated candidate), 0 when it started none; a child started by ``fork`` and
    ``exec`` counts from at least this process's resident set at that moment."""

    peak_rss_mb: float
    children_peak_rss_mb: float


def _own_peak_kib() -> int:
    import resource

    try:
        for line in Path("/proc/self/status").read_text(encoding="ascii").splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def measure_resources() -> Resources:
    """This process's and its children's peak resident set so far (Linux reports KiB)."""
    import resource

    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return Resources(
        peak_rss_mb=round(_own_peak_kib() / 1024.0, 1),
        children_peak_rss_mb=round(children / 1024.0, 1),
    )


class RunManifest(msgspec.Struct, frozen=True, kw_only=True):
    """The content of ``run.json``."""

    manifest_version: int
    backend: str
    engine_version: str
    versions: dict[str, str]
    spec_hash: str
    repo: RepoEntry
    inputs: tuple[TableEntry, ...]
    outputs: tuple[TableEntry, ...]
    warnings_by_code: dict[str, int]
    warnings: tuple[RunWarning, ...]
    timings: dict[str, float]
    started_at: str
    finished_at: str
    served_by: ServedBy | None = None
    metrics: tuple[OperatorMetric, ...] = ()
    view_rows: dict[str, int] = {}
    resources: Resources | None = None
    """Peak memory (absent from a run.json written before it was recorded)."""


def repo_fingerprint(repo_scan: pa.Table) -> str:
    """SHA-256 over the sorted ``path``, ``status`` and ``file_sha256`` of every scanned file."""
    rows = sorted(
        zip(
            repo_scan.column("path").to_pylist(),
            repo_scan.column("status").to_pylist(),
            repo_scan.column("file_sha256").to_pylist(),
            strict=True,
        )
    )
    digest = hashlib.sha256()
    for path, status, sha in rows:
        digest.update(f"{path}\x1f{status}\x1f{sha or ''}\n".encode())
    return digest.hexdigest()


def relative_location(uri: str, run_dir: str) -> str | None:
    """``uri`` as a POSIX path relative to ``run_dir``; None when that is not possible.

    Works on local paths (resolved first, so a run written with a relative ``--out`` is
    handled) and on object-store URIs of the same bucket. None when the table lies outside the
    run directory and its parent (the shadow root): such a run is not relocatable and is read
    at its absolute ``uri``.
    """
    if "://" in uri or "://" in run_dir:
        table_url, run_url = urlsplit(uri), urlsplit(run_dir)
        if (table_url.scheme, table_url.netloc) != (run_url.scheme, run_url.netloc):
            return None
        rel = posixpath.relpath(table_url.path or "/", run_url.path or "/")
    else:
        rel = Path(os.path.relpath(Path(uri).resolve(), Path(run_dir).resolve())).as_posix()
    try:
        _check_relative(rel)
    except ValueError:
        return None
    return rel


def _provenance(uri: Path | str) -> str:
    """The absolute form of a local ``uri`` (object-store URIs are absolute already)."""
    text = str(uri)
    return text if "://" in text else str(Path(text).resolve())


def table_entry(
    name: str,
    uri: Path,
    version: int,
    run_dir: Path | None = None,
    version_before: int | msgspec.UnsetType | None = msgspec.UNSET,
    *,
    note: bool = True,
) -> TableEntry:
    """Read one Delta table at ``version`` and describe it (rows, schema hash, fingerprint).

    With ``run_dir``, the entry also records where the table is relative to the run.
    ``note=False`` never writes into the table's folder (a table this build does not own).
    """
    described = _described(uri, version, note)
    return TableEntry(
        table=name,
        uri=_provenance(uri),
        path=None if run_dir is None else relative_location(str(uri), str(run_dir)),
        delta_version=version,
        rows=described.rows,
        schema_hash=described.schema_hash,
        fingerprint=described.fingerprint,
        version_before=version_before,
    )


ENTRY_NOTE = "manifest"
"""The note (``backends.extract.delta.write_note``) holding what :func:`table_entry` computed
from a table version: a later build that leaves the version as it was does not read it again."""


class _Described(msgspec.Struct, frozen=True):
    rows: int
    schema_hash: str
    fingerprint: str
    fingerprint_version: str


def _described(uri: Path, version: int, note: bool = True) -> _Described:
    """Rows, schema hash and fingerprint of the table at ``uri`` as of ``version``: from its
    note when the version is the one noted, else read (and, with ``note``, noted for the next
    build)."""
    noted = read_note(uri, ENTRY_NOTE, version)
    try:
        described = msgspec.convert(noted, _Described)
    except msgspec.ValidationError:
        described = None
    if described is not None and described.fingerprint_version == FINGERPRINT_VERSION:
        return described
    table = read_table(uri, version)
    described = _Described(
        rows=table.num_rows,
        schema_hash=schema_hash(table.schema),
        fingerprint=fingerprint(table),
        fingerprint_version=FINGERPRINT_VERSION,
    )
    if note:
        write_note(uri, ENTRY_NOTE, version, msgspec.to_builtins(described))
    return described


def table_key(uri: Path | str) -> str:
    """The key of a table in a ``versions_before`` mapping: its absolute location."""
    return _provenance(uri)


def _warnings_by_code(diagnostics: TableEntry | None) -> dict[str, int]:
    if diagnostics is None:
        return {}
    uri, version = Path(diagnostics.uri), diagnostics.delta_version
    noted = read_note(uri, CODES_NOTE, version).get("codes")
    try:
        return msgspec.convert(noted, dict[str, int])
    except msgspec.ValidationError:
        pass  # none noted for this version
    table = read_table(uri, version)
    counts: dict[str, int] = {}
    for code in table.column("code").to_pylist():
        counts[code] = counts.get(code, 0) + 1
    codes = dict(sorted(counts.items()))
    write_note(uri, CODES_NOTE, version, {"codes": codes})
    return codes


def _repo_fingerprint(scan_uri: Path, note: bool = True) -> str:
    """:func:`repo_fingerprint` of the latest version of ``repo_scan``, noted on it (with
    ``note``)."""
    version = current_version(scan_uri)
    if version is not None:
        noted = read_note(scan_uri, REPO_NOTE, version).get("fingerprint")
        if isinstance(noted, str):
            return noted
    value = repo_fingerprint(read_table(scan_uri, version))
    if version is not None and note:
        write_note(scan_uri, REPO_NOTE, version, {"fingerprint": value})
    return value


CODES_NOTE = "warnings_by_code"
"""The note of the diagnostics output: its rows counted by code, for one version."""
REPO_NOTE = "repo_fingerprint"
"""The note of ``repo_scan``: :func:`repo_fingerprint` of one version."""


def build_manifest(
    request: BuildRequest,
    build: BackendBuild,
    started_at: dt.datetime,
    served_by: ServedBy | None = None,
    versions_before: Mapping[str, int | None] | None = None,
) -> RunManifest:
    """Describe a finished build; reads back every evidence and output table it names.

    ``versions_before`` maps a table's :func:`table_key` to its version before the build (None:
    no table yet); a table it does not name, or no mapping at all, leaves ``version_before``
    unset (not recorded).
    """

    def before(uri: Path) -> int | msgspec.UnsetType | None:
        if versions_before is None:
            return msgspec.UNSET
        return versions_before.get(table_key(uri), msgspec.UNSET)

    # Notes go only into tables inside this run's folder: a shadow side reads the evidence
    # shared with the other side (``../evidence``), which neither side may change (the
    # candidate is checked for it: harness/shadow/containment.py).
    own = request.out.resolve()

    def owned(uri: Path) -> bool:
        return uri.resolve().is_relative_to(own)

    inputs = []
    for name in EVIDENCE_TABLES:
        stats = build.summary.extractors.get(name)
        uri = request.evidence_dir / name
        if not uri.exists():
            continue
        version = stats.delta_version if stats is not None else _latest_version(uri)
        inputs.append(table_entry(name, uri, version, request.out, before(uri), note=owned(uri)))
    outputs = tuple(
        table_entry(
            o.table,
            Path(o.uri),
            o.delta_version,
            request.out,
            before(Path(o.uri)),
            note=owned(Path(o.uri)),
        )
        for o in build.result.outputs
    )
    diagnostics = next((o for o in outputs if o.table == "diagnostics"), None)
    return RunManifest(
        manifest_version=MANIFEST_VERSION,
        backend=build.backend,
        engine_version=build.result.engine_version,
        versions=versions(),
        spec_hash=build.result.spec_hash,
        repo=RepoEntry(
            path=str(request.repo),
            files=build.summary.files,
            python_files_ok=build.summary.python_files_ok,
            fingerprint=_repo_fingerprint(
                request.evidence_dir / "repo_scan", owned(request.evidence_dir)
            ),
        ),
        inputs=tuple(inputs),
        outputs=outputs,
        warnings_by_code=_warnings_by_code(diagnostics),
        warnings=build.result.warnings,
        timings=dict(sorted(build.timings.items())),
        started_at=started_at.isoformat(timespec="seconds"),
        finished_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        served_by=served_by,
        metrics=build.result.metrics,
        view_rows=build.result.view_rows,
        resources=measure_resources(),
    )


def _latest_version(uri: Path) -> int:
    from deltalake import DeltaTable

    return int(DeltaTable(str(uri)).version())


def write_manifest(path: Path, manifest: RunManifest) -> None:
    """Write ``run.json`` (indented, keys in struct order) atomically: a run killed while
    writing leaves the previous ``run.json`` whole, never a truncated one."""
    write_atomic(path, msgspec.json.format(msgspec.json.encode(manifest)) + b"\n")


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a synced temporary file renamed over it: a reader
    sees the previous content or the new one, never a part (``run.json``, the cursors)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}-", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        Path(tmp).replace(path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_manifest(path: Path) -> RunManifest:
    """Read a ``run.json`` back (any version up to :data:`MANIFEST_VERSION`).

    msgspec.ValidationError for a malformed manifest or one written by a newer harness, whose
    table locations this one could misread.
    """
    manifest = msgspec.json.decode(path.read_bytes(), type=RunManifest)
    if not 1 <= manifest.manifest_version <= MANIFEST_VERSION:
        raise msgspec.ValidationError(
            f"unsupported manifest_version {manifest.manifest_version} "
            f"(this harness reads 1-{MANIFEST_VERSION}) - at `$.manifest_version`"
        )
    return manifest


def locate(run_dir: Path, section: Section, entry: TableEntry) -> Path:
    """Where the table of ``entry`` is now, for the run directory found at ``run_dir``.

    v2: ``path`` joined to the run directory's current location, so a copied run is read by
    its own tables and a moved one still reads. v1 (no ``path``): the absolute ``uri`` while it
    exists, then the DESIGN §3 layout under the run directory (``../evidence`` for the inputs
    of a shadow side).
    """
    if entry.path is not None:
        return Path(os.path.normpath(run_dir / PurePosixPath(entry.path)))
    candidates = [Path(entry.uri), run_dir / STAGE_DIRS[section] / entry.table]
    if section == "inputs":
        candidates.append(run_dir.parent / STAGE_DIRS[section] / entry.table)
    for candidate in candidates:
        if (candidate / "_delta_log").is_dir():
            return candidate
    return candidates[1]
