"""One side of a shadow run, described by plain data so that it can run in a child process.

``semantics``: run the backend's semantic stage on the shared Stage-0 evidence (the default:
extraction is paid once). ``build``: extract and compute on its own (``--isolated``), so the
evidence is compared too. Either way the side writes its own ``run.json``.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Literal

import msgspec

from backends.contract.spec import SpecPolicy, decode_spec
from backends.extract.runner import ExtractOptions
from backends.extract.summary import ExtractSummary
from harness.run.build import SharedEvidence, execute, record
from harness.run.manifest import RunManifest, ServedBy
from harness.run.request import BuildRequest


class SidePlan(msgspec.Struct, frozen=True, kw_only=True):
    """Everything one side needs, as data."""

    backend: str
    role: Literal["primary", "candidate"]
    mode: Literal["semantics", "build"]
    repo: str
    run_dir: str
    views: bool
    policy: SpecPolicy
    workers: int = 0
    cache_dir: str | None = None
    evidence_dir: str | None = None
    spec_json: bytes | None = None
    summary_json: bytes | None = None
    extract_s: float = 0.0


def execute_side(plan: SidePlan) -> RunManifest:
    """Run one side and write its ``run.json``; backend errors propagate as EngineFailure."""
    started_at = dt.datetime.now(dt.UTC)
    run_dir = Path(plan.run_dir)
    request = BuildRequest(
        repo=Path(plan.repo),
        out=run_dir,
        extract=ExtractOptions(
            workers=plan.workers, cache_dir=None if plan.cache_dir is None else Path(plan.cache_dir)
        ),
        policy=plan.policy,
        views=plan.views,
        evidence=None if plan.evidence_dir is None else Path(plan.evidence_dir),
    )
    shared = None
    if plan.mode == "semantics":
        assert plan.spec_json is not None and plan.summary_json is not None
        shared = SharedEvidence(
            summary=msgspec.json.decode(plan.summary_json, type=ExtractSummary),
            spec=decode_spec(plan.spec_json),
            extract_s=plan.extract_s,
        )
    built = execute(plan.backend, request, shared)
    served = ServedBy(backend=plan.backend, source="shadow", reason=f"shadow {plan.role}")
    return record(request, built, started_at, served)
