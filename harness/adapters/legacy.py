"""Adapter of the legacy backend (Hamilton + rustworkx). Deleted with backends/legacy/ at
Phase 7: nothing else in the harness imports the legacy stack."""

from __future__ import annotations

from pathlib import Path

from backends import legacy
from backends.contract.result import PlanReport, RunResult
from backends.contract.spec import SemanticExecutionSpec
from backends.extract.runner import ExtractOptions
from backends.extract.summary import ExtractSummary
from harness.errors import EngineFailure

NAME = "legacy"


def _failure(exc: legacy.LegacyError) -> EngineFailure:
    return EngineFailure(NAME, exc.code, exc.stage, str(exc), dict(exc.context))


class LegacyAdapter:
    """The legacy backend behind the adapter protocol of ``harness.adapters``."""

    NAME = NAME

    def extract(self, repo: Path, out: Path, options: ExtractOptions) -> ExtractSummary:
        """Stage 0 through the Hamilton extraction DAG (the legacy pipeline's own)."""
        try:
            return legacy.run_extraction(repo, out, options=options)
        except legacy.LegacyError as exc:
            raise _failure(exc) from exc

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


ADAPTER = LegacyAdapter()
