"""Adapter of the new engine: Stage 0 by the shared extraction runner (process pool), the
semantic stage and plans by ``codeanatomy_engine``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from backends.contract.result import PlanReport, RunResult
from backends.contract.spec import SemanticExecutionSpec
from backends.extract.delta import DeltaWriteError
from backends.extract.runner import ExtractOptions
from backends.extract.runner import extract as run_extract
from backends.extract.summary import ExtractSummary
from harness.errors import BackendUnavailable, EngineFailure

NAME = "rust"


def check_available() -> None:
    """Raise BackendUnavailable (why: the import error) when the compiled extension cannot be
    imported. :func:`harness.adapters.adapter` calls it; nothing else checks the extension."""
    try:
        import backends.rust  # noqa: F401
    except ImportError as exc:
        raise BackendUnavailable(NAME, str(exc)) from exc


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

    def extract(self, repo: Path, out: Path, options: ExtractOptions) -> ExtractSummary:
        try:
            return run_extract(repo, out, options)
        except DeltaWriteError as exc:  # an evidence table could not be written
            context = {**exc.context, "reason": exc.reason}
            raise EngineFailure(NAME, "COMMIT_FAILED", "commit", str(exc), context) from exc

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


ADAPTER = RustAdapter()
