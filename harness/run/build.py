"""Run one build with one named backend and write its run manifest (``OUT/run.json``)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from harness.adapters import adapter
from harness.run.manifest import RunManifest, ServedBy, build_manifest, write_manifest
from harness.run.request import BackendBuild, BuildRequest
from harness.telemetry import SPAN_BUILD, record_stage, record_warnings, span


@dataclass(frozen=True)
class BuildOutcome:
    """A finished build: what the backend returned and the manifest written for it."""

    build: BackendBuild
    manifest: RunManifest


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
        built = adapter(backend).build(request)
        manifest = build_manifest(request, built, started_at, served_by)
        write_manifest(request.out / "run.json", manifest)
    for stage in ("extract", "semantic", "total"):
        if f"{stage}_s" in built.timings:
            record_stage(stage, built.timings[f"{stage}_s"], backend=backend)
    record_warnings(manifest.warnings_by_code, backend=backend)
    return BuildOutcome(build=built, manifest=manifest)
