"""The stable library API (DESIGN §1, §3): ``build_graph_product``.

Routes every build with :func:`harness.route.decide_route` (kill switch > request > config >
default, legacy fallback when the Rust extension cannot load), then runs one backend, or both
in shadow mode. The caller always gets the primary's outcome: its manifest, or its exception.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from contextlib import suppress
from dataclasses import dataclass, field, replace
from pathlib import Path

import msgspec

from backends.contract.spec import SpecPolicy
from backends.extract.runner import ExtractOptions
from harness.config.load import LoadedConfig, load_config
from harness.maintain import MaintenanceReport, maintain_run
from harness.route import Mode, Route, decide_route
from harness.run.build import run_build
from harness.run.lock import hold_out_folder
from harness.run.manifest import RunManifest, ServedBy, read_manifest
from harness.run.request import BuildRequest
from harness.shadow.observation import HarnessFault
from harness.shadow.runner import ShadowOptions, ShadowOutcome, run_shadow
from harness.telemetry import SPAN_ROUTE, SPAN_SHADOW, span


@dataclass(frozen=True)
class GraphProductBuildRequest:
    """Build the CPG of ``repo`` into ``out``; ``backend`` forces a mode (kill switch aside)."""

    repo: Path
    out: Path
    backend: Mode | None = None
    extract: ExtractOptions = field(default_factory=ExtractOptions)
    policy: SpecPolicy = field(default_factory=SpecPolicy)
    views: bool = False
    shadow: ShadowOptions = field(default_factory=ShadowOptions)
    config: LoadedConfig | None = None
    env: Mapping[str, str] | None = None
    force: bool = False
    """Write into an ``out`` folder that holds files codeanatomy did not write."""


@dataclass(frozen=True)
class GraphProductBuildResult:
    """What served the build and its manifest; in shadow mode, everything observed."""

    route: Route
    backend: str
    run_dir: Path
    manifest: RunManifest
    shadow: ShadowOutcome | None = None
    maintenance: MaintenanceReport | None = None
    """Delta maintenance after an incremental build that committed a new version of some table;
    None when the folder was fresh (DESIGN §3: every table at version 0) or the build left every
    table at its version: nothing new to maintain."""
    maintenance_error: str | None = None
    """Why that maintenance failed: the build stands, the tables are only left unmaintained."""


def _write_report(
    request: GraphProductBuildRequest, config: LoadedConfig, shadow: ShadowOutcome
) -> ShadowOutcome:
    """Write ``OUT/report`` for a shadow build; a failure here is a recorded harness fault."""
    from harness.compare.policy import configured_policy, configured_thresholds
    from harness.report.assemble import RepoRun, assemble
    from harness.report.writers import write_reports

    try:
        report = assemble(
            [RepoRun(name=request.repo.resolve().name, repo=str(request.repo), outcome=shadow)],
            configured_policy(config),
            configured_thresholds(config),
        )
        write_reports(report, request.out / "report")
    except Exception as exc:  # never reaches the caller: the primary's outcome is the result
        fault = HarnessFault(where="report", error=f"{type(exc).__name__}: {exc}")
        return replace(shadow, faults=(*shadow.faults, fault))
    return shadow


def build_graph_product(request: GraphProductBuildRequest) -> GraphProductBuildResult:
    """Route and run one build. Raises the serving backend's EngineFailure, nothing else of
    the candidate's; UsageError ``OUT_BUSY`` when another run writes into ``request.out``,
    ``OUT_NOT_OURS`` when it holds others' files (unless ``request.force``)."""
    request.out.mkdir(parents=True, exist_ok=True)
    with hold_out_folder(request.out, "build_graph_product", force=request.force):
        result = _build_graph_product(request)
        return _maintain(request, result)


def _manifests(result: GraphProductBuildResult) -> list[RunManifest]:
    """The manifests of the build: the primary's, and in shadow mode the candidate's too (its
    outputs are tables of the same folder); a candidate without a readable ``run.json`` wrote
    nothing to maintain that its manifest would name."""
    manifests = [result.manifest]
    shadow = result.shadow
    if shadow is not None and shadow.candidate.ok:
        path = Path(shadow.candidate.run_dir) / "run.json"
        # Unreadable: the comparison has reported it; the primary's manifest still decides.
        with suppress(OSError, msgspec.ValidationError, msgspec.DecodeError):
            manifests.append(read_manifest(path))
    return manifests


def versions_moved(manifests: Iterable[RunManifest]) -> bool:
    """Whether the build committed a new version of a table an earlier build wrote: some table
    whose ``version_before`` is a version and differs from its ``delta_version``.

    A fresh folder (every ``version_before`` null: every table at version 0, DESIGN §3) and an
    unchanged rebuild (every table left at its version) have nothing new to maintain. The views
    are not in ``run.json``: they are computed from the evidence, so they move only when it does
    (an input of the manifest). A maintenance that failed is retried by the next build that
    moves a table, or by ``codeanatomy maintain``."""
    return any(
        isinstance(t.version_before, int) and t.version_before != t.delta_version
        for m in manifests
        for t in (*m.inputs, *m.outputs)
    )


def _maintain(
    request: GraphProductBuildRequest, result: GraphProductBuildResult
) -> GraphProductBuildResult:
    """Apply the maintenance policy (``[maintenance]``) after an incremental build that moved
    some table's version (:func:`versions_moved`), while the folder is still held; it never
    changes the build's result, only reports (``maintenance`` stays None when nothing moved)."""
    if not versions_moved(_manifests(result)):
        return result
    config = request.config if request.config is not None else load_config(env=request.env)
    try:
        report = maintain_run(request.out, config.config.maintenance)
    except Exception as exc:  # the build stands; maintenance is retried by the next one
        return replace(result, maintenance_error=f"{type(exc).__name__}: {exc}")
    return replace(result, maintenance=report)


def _build_graph_product(request: GraphProductBuildRequest) -> GraphProductBuildResult:
    config = request.config if request.config is not None else load_config(env=request.env)
    with span(SPAN_ROUTE, requested=request.backend) as current:
        route = decide_route(config, request.backend, request.env)
        current.set_attributes(
            {"mode": route.mode, "primary": route.primary, "source": route.source}
        )
    build_request = BuildRequest(
        repo=request.repo,
        out=request.out,
        extract=request.extract,
        policy=request.policy,
        views=request.views or route.mode == "shadow",
    )
    if route.mode != "shadow" or route.candidate is None:
        served = ServedBy(backend=route.primary, source=route.source, reason=route.reason)
        outcome = run_build(route.primary, build_request, served)
        return GraphProductBuildResult(
            route=route, backend=route.primary, run_dir=request.out, manifest=outcome.manifest
        )
    with span(SPAN_SHADOW, primary=route.primary, candidate=route.candidate):
        shadow = run_shadow(build_request, route.primary, route.candidate, request.shadow)
    if shadow.primary_error is not None:
        raise shadow.primary_error
    manifest = shadow.manifest
    assert manifest is not None
    shadow = _write_report(request, config, shadow)
    return GraphProductBuildResult(
        route=route,
        backend=route.primary,
        run_dir=Path(shadow.primary.run_dir),
        manifest=manifest,
        shadow=shadow,
    )
