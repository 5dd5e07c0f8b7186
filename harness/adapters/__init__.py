"""The only way the harness reaches a backend (DESIGN §2): one adapter module per backend.

``harness/adapters/legacy.py`` is deleted together with ``backends/legacy/`` at Phase 7; the
rest of the harness names backends by string and asks :func:`adapter` for the module.
"""

from __future__ import annotations

from typing import Protocol

from backends.contract.result import PlanReport, RunResult
from backends.contract.spec import SemanticExecutionSpec
from harness.run.errors import BackendUnavailable
from harness.run.request import BackendBuild, BuildRequest

BACKENDS: tuple[str, ...] = ("legacy", "rust")


class Adapter(Protocol):
    """What every backend adapter offers."""

    NAME: str

    def build(self, request: BuildRequest) -> BackendBuild: ...

    def run_semantics(
        self, spec: SemanticExecutionSpec, outputs_dir: object, views_dir: object = None
    ) -> RunResult: ...

    def plan(self, spec: SemanticExecutionSpec, tier: int) -> PlanReport: ...


def adapter(name: str) -> Adapter:
    """The adapter of backend ``name``; BackendUnavailable when it cannot load here.

    A name of the form ``package.module:ATTRIBUTE`` names an adapter object outside the
    harness (a plugin, or a test double); it is imported by that path.
    """
    if ":" in name:
        import importlib

        module, _, attribute = name.partition(":")
        try:
            found: Adapter = getattr(importlib.import_module(module), attribute)
        except (ImportError, AttributeError) as exc:
            raise BackendUnavailable(name, f"cannot load adapter: {exc}") from exc
        return found
    if name == "rust":
        from harness.adapters import rust

        rust.check_available()
        return rust.ADAPTER
    if name == "legacy":
        from harness.adapters import legacy

        return legacy.ADAPTER
    raise BackendUnavailable(name, f"unknown backend; known: {', '.join(BACKENDS)}")
