"""One build, timed and recorded: the only place a build is timed or its ``run.json`` written.

:func:`execute` runs a backend's stages through its adapter — Stage 0 (unless the evidence is
shared with another run, as in shadow mode) and the semantic stage — and times them;
:func:`record` writes the manifest; :func:`run_build` does both for one named backend. The
gateway, the gates and both sides of a shadow run all build through here, so every
``run.json`` carries the same timings, measured and rounded the same way.

Before any stage writes, the current Delta version of every contract table the build may write
in the run folder is read (:func:`versions_before`, None where no table is yet): ``run.json``
records it beside each table's version after the build, so that a build into a folder that
already holds one says which versions it added (DESIGN §3).
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import msgspec

from backends.contract.schemas import EVIDENCE_TABLES, OUTPUT_TABLES
from backends.contract.spec import SemanticExecutionSpec, spec_hash
from backends.extract.delta import current_version
from backends.extract.runner import extract
from backends.extract.summary import ExtractSummary
from harness.adapters import adapter
from harness.adapters.common import workload_spec
from harness.run.manifest import (
    RunManifest,
    ServedBy,
    build_manifest,
    locate,
    read_manifest,
    table_key,
    write_manifest,
)
from harness.run.request import BackendBuild, BuildRequest
from harness.telemetry import (
    SPAN_BUILD,
    SPAN_EXTRACT,
    SPAN_SEMANTIC,
    record_stage,
    record_warnings,
    span,
)

TIMING_DIGITS = 4
"""Stage timings are kept to a tenth of a millisecond (as the shadow observations are)."""
STAGES = ("extract", "semantic", "total")
"""The timings of every build, as ``<stage>_s`` (the observability gate requires them)."""


@dataclass(frozen=True)
class SharedEvidence:
    """Stage 0 done once for several builds (the two sides of a shadow run): its summary, the
    workload spec pinned to it, and what it cost."""

    summary: ExtractSummary
    spec: SemanticExecutionSpec
    extract_s: float
    versions_before: Mapping[str, int | None] | None = None
    """The evidence tables' versions before Stage 0 (:func:`versions_before`); None when not
    known (a side rebuilt from a plan that does not carry them)."""


@dataclass(frozen=True)
class TimedBuild(BackendBuild):
    """A build run by :func:`execute`: what the backend returned, and the versions of the run
    folder's tables before it wrote anything (for :func:`record`)."""

    versions_before: Mapping[str, int | None] = field(default_factory=dict)


@dataclass(frozen=True)
class BuildOutcome:
    """A finished build: what the backend returned and the manifest written for it."""

    build: BackendBuild
    manifest: RunManifest


def stage_timings(extract_s: float, semantic_s: float) -> dict[str, float]:
    """The timings of a build: each stage, and their sum as ``total_s``, rounded once."""
    seconds = {"extract": extract_s, "semantic": semantic_s, "total": extract_s + semantic_s}
    return {f"{stage}_s": round(seconds[stage], TIMING_DIGITS) for stage in STAGES}


def extract_once(request: BuildRequest) -> SharedEvidence:
    """Stage 0 of ``request`` by the shared extraction runner, for several builds to share
    (the two sides of a shadow run): timed, with the workload spec pinned to it."""
    before = versions_before(request.out / "evidence", EVIDENCE_TABLES)
    started = time.perf_counter()
    with span(SPAN_EXTRACT, backend="shared"):
        summary = extract(request.repo, request.out, request.extract)
    extract_s = time.perf_counter() - started
    spec = workload_spec(request.out / "evidence", request.policy)
    return SharedEvidence(summary=summary, spec=spec, extract_s=extract_s, versions_before=before)


def versions_before(folder: Path, tables: Mapping[str, object]) -> dict[str, int | None]:
    """The current Delta version of each of ``tables`` under ``folder``, by :func:`table_key`
    (None: no table there yet)."""
    return {table_key(folder / name): current_version(folder / name) for name in tables}


def _recorded_inputs(run_dir: Path, evidence_dir: Path) -> dict[str, int | None]:
    """The evidence versions before a build, as the previous ``run.json`` of ``run_dir`` recorded
    them: how a shadow side rebuilt from a plan that does not carry them knows them (the shared
    Stage 0 has written since). No previous manifest: the side never built here, None for each
    table; a manifest that cannot be read or does not name a table: not recorded."""
    manifest_path = run_dir / "run.json"
    if not manifest_path.is_file():
        return {table_key(evidence_dir / name): None for name in EVIDENCE_TABLES}
    try:
        previous = read_manifest(manifest_path)
    except (OSError, msgspec.DecodeError, msgspec.ValidationError):
        return {}
    return {
        table_key(locate(run_dir, "inputs", entry)): entry.delta_version
        for entry in previous.inputs
    }


def _before(request: BuildRequest, shared: SharedEvidence | None) -> dict[str, int | None]:
    """The versions of every table ``request`` may write, before it writes any."""
    before = versions_before(request.outputs_dir, OUTPUT_TABLES)
    if shared is None:
        before.update(versions_before(request.evidence_dir, EVIDENCE_TABLES))
    elif shared.versions_before is not None:
        before.update(shared.versions_before)
    else:
        before.update(_recorded_inputs(request.out, request.evidence_dir))
    return before


def execute(
    backend: str, request: BuildRequest, shared: SharedEvidence | None = None
) -> BackendBuild:
    """Run ``backend`` on ``request``: its own Stage 0 (or the ``shared`` evidence), then the
    semantic stage over the pinned workload spec; timed. Raises the adapter's EngineFailure,
    or BackendUnavailable.

    The versions of the run folder's tables are read first, before anything is written, and
    returned with the build (:class:`TimedBuild`).

    ``extract_s`` is Stage 0; ``semantic_s`` is everything after it (pinning the evidence
    versions and the semantic run); ``total_s`` is their sum.
    """
    engine = adapter(backend)
    before = _before(request, shared)
    if shared is None:
        started = time.perf_counter()
        with span(SPAN_EXTRACT, backend=backend):
            summary = engine.extract(request.repo, request.out, request.extract)
        extract_s = time.perf_counter() - started
    else:
        summary, extract_s = shared.summary, shared.extract_s
    started = time.perf_counter()
    spec = workload_spec(request.evidence_dir, request.policy) if shared is None else shared.spec
    with span(SPAN_SEMANTIC, backend=backend, spec_hash=spec_hash(spec)):
        result = engine.run_semantics(spec, request.outputs_dir, request.views_dir)
    semantic_s = time.perf_counter() - started
    return TimedBuild(
        backend=backend,
        summary=summary,
        result=result,
        timings=stage_timings(extract_s, semantic_s),
        versions_before=before,
    )


def record(
    request: BuildRequest,
    built: BackendBuild,
    started_at: dt.datetime,
    served_by: ServedBy | None = None,
) -> RunManifest:
    """Describe a finished build and write it to ``OUT/run.json`` (the one manifest writer).

    A build run by :func:`execute` records each table's version before it; any other leaves
    ``version_before`` unset."""
    before = built.versions_before if isinstance(built, TimedBuild) else None
    manifest = build_manifest(request, built, started_at, served_by, before)
    write_manifest(request.out / "run.json", manifest)
    return manifest


def run_build(
    backend: str, request: BuildRequest, served_by: ServedBy | None = None
) -> BuildOutcome:
    """Extract, compute the CPG with ``backend`` and write ``run.json``.

    Raises EngineFailure (a coded backend error) or BackendUnavailable.
    """
    started_at = dt.datetime.now(dt.UTC)
    if served_by is None:
        served_by = ServedBy(backend=backend, source="request", reason=f"backend {backend} named")
    with span(SPAN_BUILD, backend=backend, repo=str(request.repo)):
        built = execute(backend, request)
        manifest = record(request, built, started_at, served_by)
    for stage in STAGES:
        record_stage(stage, built.timings[f"{stage}_s"], backend=backend)
    record_warnings(manifest.warnings_by_code, backend=backend)
    return BuildOutcome(build=built, manifest=manifest)
