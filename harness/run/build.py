"""One build, timed and recorded: the only place a build is timed or its ``run.json`` written.

:func:`execute` runs a backend's stages through its adapter — Stage 0 (unless the evidence is
shared with another run, as in shadow mode) and the semantic stage — and times them;
:func:`record` writes the manifest; :func:`run_build` does both for one named backend. The
gateway, the gates and both sides of a shadow run all build through here, so every
``run.json`` carries the same timings, measured and rounded the same way.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass

from backends.contract.spec import SemanticExecutionSpec, spec_hash
from backends.extract.runner import extract
from backends.extract.summary import ExtractSummary
from harness.adapters import adapter
from harness.adapters.common import workload_spec
from harness.run.manifest import RunManifest, ServedBy, build_manifest, write_manifest
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
    started = time.perf_counter()
    with span(SPAN_EXTRACT, backend="shared"):
        summary = extract(request.repo, request.out, request.extract)
    extract_s = time.perf_counter() - started
    spec = workload_spec(request.out / "evidence", request.policy)
    return SharedEvidence(summary=summary, spec=spec, extract_s=extract_s)


def execute(
    backend: str, request: BuildRequest, shared: SharedEvidence | None = None
) -> BackendBuild:
    """Run ``backend`` on ``request``: its own Stage 0 (or the ``shared`` evidence), then the
    semantic stage over the pinned workload spec; timed. Raises the adapter's EngineFailure,
    or BackendUnavailable.

    ``extract_s`` is Stage 0; ``semantic_s`` is everything after it (pinning the evidence
    versions and the semantic run); ``total_s`` is their sum.
    """
    engine = adapter(backend)
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
    return BackendBuild(
        backend=backend,
        summary=summary,
        result=result,
        timings=stage_timings(extract_s, semantic_s),
    )


def record(
    request: BuildRequest,
    built: BackendBuild,
    started_at: dt.datetime,
    served_by: ServedBy | None = None,
) -> RunManifest:
    """Describe a finished build and write it to ``OUT/run.json`` (the one manifest writer)."""
    manifest = build_manifest(request, built, started_at, served_by)
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
