"""Adapter of the new engine: staged extraction (process pool), then ``codeanatomy_engine``."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from backends.contract.result import PlanReport, RunResult
from backends.contract.spec import SemanticExecutionSpec, spec_hash
from backends.extract.runner import extract
from harness.adapters.common import workload_spec
from harness.run.errors import BackendUnavailable, EngineFailure
from harness.run.request import BackendBuild, BuildRequest
from harness.telemetry import SPAN_EXTRACT, SPAN_SEMANTIC, span

NAME = "rust"


def load_problem() -> str | None:
    """None when the compiled extension imports; else why it does not."""
    try:
        import backends.rust  # noqa: F401
    except ImportError as exc:
        return str(exc)
    return None


def check_available() -> None:
    """Raise BackendUnavailable when the compiled extension cannot be imported."""
    problem = load_problem()
    if problem is not None:
        raise BackendUnavailable(NAME, problem)


def engine_version() -> str:
    """The engine's version (with its DataFusion and delta-rs); ImportError when not built."""
    from backends.rust import engine_version as version

    return version()


def _failure(exc: Exception) -> EngineFailure:
    code = getattr(exc, "code", None)
    stage = getattr(exc, "stage", None)
    context: Any = getattr(exc, "context", None)
    if not isinstance(code, str) or not isinstance(stage, str):
        return EngineFailure(NAME, "INTERNAL_ERROR", "internal", f"{type(exc).__name__}: {exc}")
    message = getattr(exc, "message", None) or str(exc)
    return EngineFailure(
        NAME, code, stage, str(message), context if isinstance(context, dict) else None
    )


class RustAdapter:
    """The new engine behind the adapter protocol of ``harness.adapters``."""

    NAME = NAME

    def run_semantics(
        self, spec: SemanticExecutionSpec, outputs_dir: object, views_dir: object = None
    ) -> RunResult:
        import backends.rust as engine

        try:
            return engine.run(
                spec, Path(str(outputs_dir)), None if views_dir is None else Path(str(views_dir))
            )
        except engine.EngineError as exc:
            raise _failure(exc) from exc

    def plan(self, spec: SemanticExecutionSpec, tier: int) -> PlanReport:
        import backends.rust as engine

        try:
            return engine.plan(spec, tier)
        except engine.EngineError as exc:
            raise _failure(exc) from exc

    def build(self, request: BuildRequest) -> BackendBuild:
        started = time.perf_counter()
        with span(SPAN_EXTRACT, backend=NAME):
            summary = extract(request.repo, request.out, request.extract)
        extracted = time.perf_counter()
        spec = workload_spec(request.evidence_dir, request.policy)
        with span(SPAN_SEMANTIC, backend=NAME, spec_hash=spec_hash(spec)):
            result = self.run_semantics(spec, request.outputs_dir, request.views_dir)
        done = time.perf_counter()
        timings = {
            "extract_s": round(extracted - started, 4),
            "semantic_s": round(done - extracted, 4),
            "total_s": round(done - started, 4),
        }
        return BackendBuild(backend=NAME, summary=summary, result=result, timings=timings)


ADAPTER = RustAdapter()
