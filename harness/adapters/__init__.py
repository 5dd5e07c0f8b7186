"""The only way the harness reaches a backend (DESIGN §2): one adapter module per backend.

An adapter runs its backend's stages — Stage 0, the semantic stage, plans — and translates
the backend's errors into :class:`~harness.errors.EngineFailure`; it neither times nor records
anything (``harness.run.build`` times every build and writes its ``run.json``).

``harness/adapters/legacy.py`` is deleted together with ``backends/legacy/`` at Phase 7; the
rest of the harness names backends by string and asks :func:`adapter` for the module.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Protocol

from backends.contract.fingerprint import use_kernel
from backends.contract.result import PlanReport, RunResult
from backends.contract.spec import SemanticExecutionSpec
from backends.extract.runner import ExtractOptions
from backends.extract.summary import ExtractSummary
from harness.errors import BackendUnavailable
from harness.vocabulary import BACKENDS


class Adapter(Protocol):
    """What every backend adapter offers."""

    NAME: str

    def extract(self, repo: Path, out: Path, options: ExtractOptions) -> ExtractSummary:
        """Stage 0 of ``repo`` into ``out/evidence``."""
        ...

    def run_semantics(
        self, spec: SemanticExecutionSpec, outputs_dir: object, views_dir: object = None
    ) -> RunResult:
        """The semantic stage over the evidence ``spec`` pins, into ``outputs_dir``."""
        ...

    def plan(self, spec: SemanticExecutionSpec, tier: int) -> PlanReport:
        """How the backend would compute ``spec`` (tier 1 summary, 2 dependencies, 3 checks)."""
        ...


def adapter(name: str) -> Adapter:
    """The adapter of backend ``name``; BackendUnavailable when it cannot load here.

    Adapters are found by name (``harness.adapters.<name>``), never imported statically: when
    the legacy adapter is deleted (Phase 7), ``adapter("legacy")`` reports it unavailable and
    nothing else in the harness changes. A name of the form ``package.module:ATTRIBUTE`` names
    an adapter object outside the harness (a plugin, or a test double).
    """
    if ":" in name:
        module_name, _, attribute = name.partition(":")
    elif name in BACKENDS:
        module_name, attribute = f"{__name__}.{name}", "ADAPTER"
    else:
        raise BackendUnavailable(name, f"unknown backend; known: {', '.join(BACKENDS)}")
    try:
        module = importlib.import_module(module_name)
        found: Adapter = getattr(module, attribute)
    except ImportError as exc:
        raise BackendUnavailable(name, f"cannot load: {exc}") from exc
    except AttributeError as exc:
        raise BackendUnavailable(name, f"no adapter object: {exc}") from exc
    check = getattr(module, "check_available", None)
    if callable(check):
        check()
    return found


def unavailable(name: str) -> str | None:
    """Why backend ``name`` cannot run here (the reason :func:`adapter` gives); None when it
    can. Routing asks this before it sends a build to the Rust engine."""
    try:
        adapter(name)
    except BackendUnavailable as exc:
        return exc.reason
    return None


def hand_over_the_fingerprint_kernel() -> bool:
    """Give the contract the engine's §14 fingerprint kernel when the Rust extension loads.

    ``backends.contract.fingerprint`` never imports an engine (import-linter), so the harness,
    which reaches the engines only here, hands it over: fingerprints of runs and comparisons
    then hash on every core instead of in Python (same values). True when handed over.
    """
    try:
        from backends.rust import row_hash_sum
    except ImportError:
        return False
    use_kernel(row_hash_sum)
    return True


hand_over_the_fingerprint_kernel()
