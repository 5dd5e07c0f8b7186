"""Run one build with one named backend and write its run manifest (``OUT/run.json``)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from harness.adapters import adapter
from harness.run.manifest import RunManifest, ServedBy, build_manifest, write_manifest
from harness.run.request import BackendBuild, BuildRequest


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
    built = adapter(backend).build(request)
    manifest = build_manifest(request, built, started_at, served_by)
    write_manifest(request.out / "run.json", manifest)
    return BuildOutcome(build=built, manifest=manifest)
