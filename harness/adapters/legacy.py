"""Adapter of the legacy backend (Hamilton + rustworkx). Deleted with backends/legacy/ at
Phase 7: nothing else in the harness imports the legacy stack."""

from __future__ import annotations

from pathlib import Path

from backends import legacy
from backends.contract.result import PlanReport, RunResult
from backends.contract.spec import SemanticExecutionSpec
from harness.run.errors import EngineFailure
from harness.run.request import BackendBuild, BuildRequest

NAME = "legacy"


def _failure(exc: legacy.LegacyError) -> EngineFailure:
    return EngineFailure(NAME, exc.code, exc.stage, str(exc), dict(exc.context))


class LegacyAdapter:
    """The legacy backend behind the adapter protocol of ``harness.adapters``."""

    NAME = NAME

    def run_semantics(
        self, spec: SemanticExecutionSpec, outputs_dir: object, views_dir: object = None
    ) -> RunResult:
        try:
            return legacy.run_semantics(
                spec,
                Path(str(outputs_dir)),
                views_dir=None if views_dir is None else Path(str(views_dir)),
            )
        except legacy.LegacyError as exc:
            raise _failure(exc) from exc

    def plan(self, spec: SemanticExecutionSpec, tier: int) -> PlanReport:
        try:
            return legacy.plan(spec, tier)
        except legacy.LegacyError as exc:
            raise _failure(exc) from exc

    def build(self, request: BuildRequest) -> BackendBuild:
        try:
            built = legacy.build(
                request.repo,
                request.out,
                options=request.extract,
                policy=request.policy,
                views_dir=request.views_dir,
            )
        except legacy.LegacyError as exc:
            raise _failure(exc) from exc
        return BackendBuild(
            backend=NAME, summary=built.summary, result=built.result, timings=built.timings
        )


ADAPTER = LegacyAdapter()
