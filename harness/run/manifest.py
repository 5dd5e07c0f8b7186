"""The run manifest ``OUT/run.json`` (DESIGN §3).

Everything needed to replay and compare a run: backend and versions, the spec hash, a content
fingerprint of the input repository, every evidence input and output with its Delta version,
rows, schema hash and content fingerprint (CONTRACT §14), the warnings by code, and timings in
seconds (``extract_s``, ``semantic_s``, ``total_s`` at least).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import msgspec
import pyarrow as pa

from backends.contract.fingerprint import fingerprint, schema_hash
from backends.contract.result import OperatorMetric, RunWarning
from backends.contract.schemas import EVIDENCE_TABLES
from backends.extract.delta import read_table
from harness.run.request import BackendBuild, BuildRequest
from harness.versions import versions

MANIFEST_VERSION = 1


class TableEntry(msgspec.Struct, frozen=True, kw_only=True):
    """One Delta table of the run, pinned to the version the run read or wrote."""

    table: str
    uri: str
    delta_version: int
    rows: int
    schema_hash: str
    fingerprint: str


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


def table_entry(name: str, uri: Path, version: int) -> TableEntry:
    """Read one Delta table at ``version`` and describe it (rows, schema hash, fingerprint)."""
    table = read_table(uri, version)
    return TableEntry(
        table=name,
        uri=str(uri),
        delta_version=version,
        rows=table.num_rows,
        schema_hash=schema_hash(table.schema),
        fingerprint=fingerprint(table),
    )


def _warnings_by_code(diagnostics: TableEntry | None) -> dict[str, int]:
    if diagnostics is None:
        return {}
    table = read_table(Path(diagnostics.uri), diagnostics.delta_version)
    counts: dict[str, int] = {}
    for code in table.column("code").to_pylist():
        counts[code] = counts.get(code, 0) + 1
    return dict(sorted(counts.items()))


def build_manifest(
    request: BuildRequest,
    build: BackendBuild,
    started_at: dt.datetime,
    served_by: ServedBy | None = None,
) -> RunManifest:
    """Describe a finished build; reads back every evidence and output table it names."""
    inputs = []
    for name in EVIDENCE_TABLES:
        stats = build.summary.extractors.get(name)
        uri = request.evidence_dir / name
        if not uri.exists():
            continue
        version = stats.delta_version if stats is not None else _latest_version(uri)
        inputs.append(table_entry(name, uri, version))
    outputs = tuple(
        table_entry(o.table, Path(o.uri), o.delta_version) for o in build.result.outputs
    )
    scan = read_table(request.evidence_dir / "repo_scan")
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
            fingerprint=repo_fingerprint(scan),
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
    )


def _latest_version(uri: Path) -> int:
    from deltalake import DeltaTable

    return int(DeltaTable(str(uri)).version())


def write_manifest(path: Path, manifest: RunManifest) -> None:
    """Write ``run.json`` (indented, keys in struct order)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(msgspec.json.format(msgspec.json.encode(manifest)) + b"\n")


def read_manifest(path: Path) -> RunManifest:
    """Read a ``run.json`` back."""
    return msgspec.json.decode(path.read_bytes(), type=RunManifest)
