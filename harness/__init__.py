"""codeanatomy's harness: gateway, shadow mode, comparison, gates, reports, config, CLI.

The public API is what ``__all__`` names, importable from here (``from harness import
build_graph_product, GraphProductBuildRequest, Result``); the package is typed (``py.typed``).

- build: :func:`build_graph_product` with a :class:`GraphProductBuildRequest` (``backend``
  ``"legacy"``, ``"rust"`` or ``"shadow"``, :class:`ExtractOptions`, :class:`SpecPolicy`,
  :class:`ShadowOptions`) gives a :class:`GraphProductBuildResult` (its :class:`Route`, its
  :class:`RunManifest`, in shadow mode the :class:`ShadowOutcome`);
- shadow and parity: :func:`run_shadow` on a :class:`BuildRequest`; :func:`compare_runs` and
  :func:`judge` for two runs on disk; the one verdict is a :class:`Result` (``blocks``,
  ``severity``, :class:`Finding` s, :class:`Coverage`) under a :class:`ParityPolicy`;
- reports: :func:`assemble` of :class:`RepoRun` s into a :class:`ParityReport`,
  :func:`write_reports` (JSON, Markdown, JUnit, HTML);
- tests: the ``parity`` fixture of the pytest plugin is a :class:`Parity`;
- errors: :class:`EngineFailure` (stable ``code`` and ``stage``), :class:`BackendUnavailable`,
  :class:`UsageError` (a path or input refused), :class:`ConfigError`, :class:`ShadowError`.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from backends.contract.spec import SpecPolicy
    from backends.extract.runner import ExtractOptions
    from harness.compare.policy import ParityPolicy, load_policy
    from harness.compare.result import Coverage, Finding, Result, SourceHealth, judge
    from harness.compare.runs import RunComparison, compare_runs
    from harness.config.load import LoadedConfig, load_config
    from harness.config.model import ConfigError
    from harness.errors import BackendUnavailable, EngineFailure, UsageError
    from harness.gateway import (
        GraphProductBuildRequest,
        GraphProductBuildResult,
        build_graph_product,
    )
    from harness.pytest_plugin import Parity, ParityOptions
    from harness.report.assemble import RepoRun, assemble
    from harness.report.model import ParityReport
    from harness.report.writers import write_reports
    from harness.route import Route
    from harness.run.manifest import RunManifest, read_manifest
    from harness.run.request import BuildRequest
    from harness.shadow.observation import HarnessFault, Observation
    from harness.shadow.runner import ShadowError, ShadowOptions, ShadowOutcome, run_shadow
    from harness.vocabulary import Mode

# Where each public name lives. Imported on first use: the CLI imports harness sub-packages
# that must not pay for the whole gateway, and the pytest plugin loads in every test session.
_HOME: dict[str, str] = {
    "BackendUnavailable": "harness.errors",
    "BuildRequest": "harness.run.request",
    "ConfigError": "harness.config.model",
    "Coverage": "harness.compare.result",
    "EngineFailure": "harness.errors",
    "ExtractOptions": "backends.extract.runner",
    "Finding": "harness.compare.result",
    "GraphProductBuildRequest": "harness.gateway",
    "GraphProductBuildResult": "harness.gateway",
    "HarnessFault": "harness.shadow.observation",
    "LoadedConfig": "harness.config.load",
    "Mode": "harness.vocabulary",
    "Observation": "harness.shadow.observation",
    "Parity": "harness.pytest_plugin",
    "ParityOptions": "harness.pytest_plugin",
    "ParityPolicy": "harness.compare.policy",
    "ParityReport": "harness.report.model",
    "RepoRun": "harness.report.assemble",
    "Result": "harness.compare.result",
    "Route": "harness.route",
    "RunComparison": "harness.compare.runs",
    "RunManifest": "harness.run.manifest",
    "ShadowError": "harness.shadow.runner",
    "ShadowOptions": "harness.shadow.runner",
    "ShadowOutcome": "harness.shadow.runner",
    "SourceHealth": "harness.compare.result",
    "SpecPolicy": "backends.contract.spec",
    "UsageError": "harness.boundary",
    "assemble": "harness.report.assemble",
    "build_graph_product": "harness.gateway",
    "compare_runs": "harness.compare.runs",
    "judge": "harness.compare.result",
    "load_config": "harness.config.load",
    "load_policy": "harness.compare.policy",
    "read_manifest": "harness.run.manifest",
    "run_shadow": "harness.shadow.runner",
    "write_reports": "harness.report.writers",
}

__all__ = [
    "BackendUnavailable",
    "BuildRequest",
    "ConfigError",
    "Coverage",
    "EngineFailure",
    "ExtractOptions",
    "Finding",
    "GraphProductBuildRequest",
    "GraphProductBuildResult",
    "HarnessFault",
    "LoadedConfig",
    "Mode",
    "Observation",
    "Parity",
    "ParityOptions",
    "ParityPolicy",
    "ParityReport",
    "RepoRun",
    "Result",
    "Route",
    "RunComparison",
    "RunManifest",
    "ShadowError",
    "ShadowOptions",
    "ShadowOutcome",
    "SourceHealth",
    "SpecPolicy",
    "UsageError",
    "assemble",
    "build_graph_product",
    "compare_runs",
    "judge",
    "load_config",
    "load_policy",
    "read_manifest",
    "run_shadow",
    "write_reports",
]


def __getattr__(name: str) -> Any:
    home = _HOME.get(name)
    if home is None:
        raise AttributeError(f"module 'harness' has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value  # the next access is a plain attribute
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
