"""The gates (DESIGN §8, issue: gates). Each returns a :class:`GateVerdict`; none raises for a
failed check (an engine error in a gate is a failed check with its code)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import msgspec

from backends.contract.codes import WARNING_CODES
from harness.config.load import LoadedConfig
from harness.errors import BackendUnavailable, EngineFailure
from harness.gates.history import clean_streak, recent_runs
from harness.gates.verdict import Check, GateVerdict, make_verdict
from harness.report.model import RepoParity
from harness.run.manifest import RunManifest
from harness.storage import is_uri
from harness.vocabulary import BACKENDS

if TYPE_CHECKING:
    from harness.gates.executor import Executor


@dataclass(frozen=True)
class GateContext:
    """What every gate gets: the config, the repositories, and a scratch folder."""

    config: LoadedConfig
    repos: tuple[Path, ...]
    work: Path
    project: Path
    progress: Callable[[str, int, int], None] | None = None
    """Hears of each build's extraction and of the repositories a parity run has done."""
    backend: str | None = None
    """The engine of the gates that build with one engine chosen by the user (incremental);
    None: the configured primary."""
    executor: Executor | None = None
    """Where the parity gate's repositories run (``--executor``); None: here, one by one."""


def _name(repo: Path) -> str:
    return repo.resolve().name


def _build(
    ctx: GateContext,
    backend: str,
    repo: Path,
    out: Path,
    workers: int = 0,
    file_order_seed: int | None = None,
) -> RunManifest:
    from harness.run.build import run_build
    from harness.run.extract_options import extract_options
    from harness.run.request import BuildRequest

    options = extract_options(
        ctx.config, workers=workers, file_order_seed=file_order_seed, progress=ctx.progress
    )
    return run_build(backend, BuildRequest(repo=repo, out=out, extract=options)).manifest


def _fingerprints(manifest: RunManifest) -> dict[str, str]:
    return {o.table: o.fingerprint for o in manifest.outputs}


def gate_parity(ctx: GateContext) -> GateVerdict:
    """Shadow over the repos with the policy's thresholds; appends to the parity history."""
    from harness.compare.policy import configured_policy
    from harness.gates.suite import run_suite
    from harness.shadow.runner import ShadowOptions

    policy = configured_policy(ctx.config)
    options = ShadowOptions(rules=policy.rules(), policy=policy, noise_baseline=True)
    try:
        report, paths = run_suite(
            list(ctx.repos),
            ctx.work / "parity",
            ctx.config,
            policy,
            options,
            quiet=True,
            progress=ctx.progress,
            executor=ctx.executor,
        )
    except EngineFailure as exc:
        return make_verdict(
            "parity", [Check(name="primary", passed=False, detail=exc.code)], "primary failed"
        )

    def stage(r: RepoParity) -> str:
        return r.result.first_divergent_stage or "-"

    checks = [
        Check(
            name=r.name,
            passed=not r.result.blocks,
            detail=f"{r.severity}; first divergent stage {stage(r)}; "
            f"{r.result.coverage.tables_compared} tables compared",
        )
        for r in report.repos
    ]
    if not report.repos:
        checks.append(Check(name="repos", passed=False, detail="no repository was compared"))
    checks.append(
        Check(name="thresholds", passed=report.verdict == "pass", detail=json.dumps(report.counts))
    )
    checks.append(plan_parity())
    return make_verdict(
        "parity",
        checks,
        f"parity {report.verdict} over {len(report.repos)} repos",
        {k: str(v) for k, v in paths.items()},
    )


def plan_parity() -> Check:
    """Plan tiers 1-2 of both backends on the workload spec: same outputs, graph summary,
    dependency edges and schedule groups."""
    from backends.contract.schemas import EVIDENCE_TABLES
    from backends.contract.views import default_spec, evidence_bindings
    from harness.adapters import adapter

    spec = default_spec(evidence_bindings("evidence", dict.fromkeys(EVIDENCE_TABLES, 0)))
    try:
        plans = [adapter(b).plan(spec, 2) for b in BACKENDS]
    except (EngineFailure, BackendUnavailable) as exc:
        return Check(name="plan_parity", passed=False, detail=str(exc))
    fields = ("spec_hash", "outputs", "graph", "edges", "schedule")
    differing = [
        f
        for f in fields
        if len({msgspec.json.encode(getattr(p, f), order="sorted") for p in plans}) > 1
    ]
    detail = "tiers 1-2 identical" if not differing else f"differ in {differing}"
    return Check(name="plan_parity", passed=not differing, detail=detail)


def gate_determinism(ctx: GateContext) -> GateVerdict:
    """Per backend: the same repo twice, with 1 and 2 workers and shuffled file order."""
    checks = []
    for backend in BACKENDS:
        for repo in ctx.repos:
            base = ctx.work / "determinism" / backend / _name(repo)
            try:
                runs = [
                    _build(ctx, backend, repo, base / "a", workers=1),
                    _build(ctx, backend, repo, base / "b", workers=2, file_order_seed=7),
                    _build(ctx, backend, repo, base / "c", workers=2, file_order_seed=11),
                ]
            except (EngineFailure, BackendUnavailable) as exc:
                checks.append(Check(name=f"{backend}/{_name(repo)}", passed=False, detail=str(exc)))
                continue
            prints = [_fingerprints(m) for m in runs]
            differing = sorted(t for t in prints[0] if len({p.get(t) for p in prints}) > 1)
            checks.append(
                Check(
                    name=f"{backend}/{_name(repo)}",
                    passed=not differing,
                    detail="identical fingerprints" if not differing else f"differ: {differing}",
                )
            )
    return make_verdict(
        "determinism", checks, "same inputs -> same fingerprints (runs, workers, file order)"
    )


def gate_observability(ctx: GateContext) -> GateVerdict:
    """Every run.json field typed and present; warning codes registered; metrics present."""
    from harness.run.build import STAGES

    checks = []
    for backend in BACKENDS:
        for repo in ctx.repos:
            name = f"{backend}/{_name(repo)}"
            try:
                manifest = _build(
                    ctx, backend, repo, ctx.work / "observability" / backend / _name(repo)
                )
                raw = (ctx.work / "observability" / backend / _name(repo) / "run.json").read_bytes()
                msgspec.json.decode(raw, type=RunManifest, strict=True)
            except (EngineFailure, BackendUnavailable, msgspec.ValidationError) as exc:
                checks.append(Check(name=name, passed=False, detail=str(exc)))
                continue
            missing = [f"{s}_s" for s in STAGES if f"{s}_s" not in manifest.timings]
            unknown = [c for c in manifest.warnings_by_code if c not in WARNING_CODES]
            problems = []
            if missing:
                problems.append(f"timings missing {missing}")
            if unknown:
                problems.append(f"unregistered warning codes {unknown}")
            if not manifest.metrics:
                problems.append("no operator metrics")
            if manifest.served_by is None:
                problems.append("no served_by")
            if len(manifest.outputs) != 5 or any(not o.fingerprint for o in manifest.outputs):
                problems.append("outputs incomplete")
            checks.append(
                Check(name=name, passed=not problems, detail="; ".join(problems) or "complete")
            )
    return make_verdict("observability", checks, "run.json fields, warning codes and metrics")


def bench_dir(config: LoadedConfig) -> Path:
    """Where ``make bench`` leaves its reports: the folder of ``[gates].bench_json`` (the
    pytest-benchmark report), beside which the benchmarks write ``bench_semantic.json``,
    ``bench_harness.json`` and ``bench_extract.json``."""
    return config.resolve(config.config.gates.bench_json).parent


def gate_perf(ctx: GateContext) -> GateVerdict:
    """Budgets from the pytest-benchmark reports (ratios measured in one run)."""
    gates = ctx.config.config.gates
    checks = []
    semantic = bench_dir(ctx.config) / "bench_semantic.json"
    extract = bench_dir(ctx.config) / "bench_extract.json"
    if semantic.is_file():
        data = json.loads(semantic.read_text())
        speedup = data.get("semantic_speedup")
        checks.append(
            Check(
                name="semantic_speedup",
                passed=speedup is not None and speedup >= gates.min_semantic_speedup,
                detail=f"rust vs legacy {speedup}x (budget >= {gates.min_semantic_speedup}x)",
            )
        )
    else:
        checks.append(
            Check(
                name="semantic_speedup", passed=False, detail=f"{semantic} missing: run make bench"
            )
        )
    if extract.is_file():
        data = json.loads(extract.read_text())
        for corpus, values in sorted(data.get("corpora", {}).items()):
            ratio = values.get("ratios", {}).get("warm_over_cold")
            if ratio is not None:
                checks.append(
                    Check(
                        name=f"warm_extract/{corpus}",
                        passed=ratio <= gates.max_warm_extract_ratio,
                        detail=f"warm/cold {ratio} (budget <= {gates.max_warm_extract_ratio})",
                    )
                )
    else:
        checks.append(
            Check(name="warm_extract", passed=False, detail=f"{extract} missing: run make bench")
        )
    return make_verdict(
        "perf", checks, "performance budgets", {"semantic": str(semantic), "extract": str(extract)}
    )


def gate_rollback(ctx: GateContext) -> GateVerdict:
    """Drill: engage the kill switch, build asking for rust, prove legacy served with outputs
    identical to a normal legacy build, release (only what the drill engaged)."""
    from harness.gateway import GraphProductBuildRequest, build_graph_product
    from harness.killswitch.decision import effective_kill_switch
    from harness.killswitch.state import engage, release
    from harness.run.extract_options import extract_options

    repo = ctx.repos[0]
    base = ctx.work / "rollback"
    checks = []
    normal = _build(ctx, "legacy", repo, base / "normal")
    already = effective_kill_switch(ctx.config).engaged
    if not already:
        engage(
            ctx.config.state_dir, actor="rollback-drill", reason="release checklist rollback drill"
        )
    try:
        result = build_graph_product(
            GraphProductBuildRequest(
                repo=repo,
                out=base / "drill",
                backend="rust",
                extract=extract_options(ctx.config),
                config=ctx.config,
            )
        )
    finally:
        if not already:
            release(ctx.config.state_dir, actor="rollback-drill", reason="drill finished")
    checks.append(
        Check(
            name="served_by_legacy", passed=result.backend == "legacy", detail=result.route.reason
        )
    )
    same = _fingerprints(result.manifest) == _fingerprints(normal)
    checks.append(
        Check(
            name="identical_outputs", passed=same, detail="fingerprints equal" if same else "differ"
        )
    )
    after = effective_kill_switch(ctx.config).engaged
    checks.append(Check(name="state_restored", passed=after == already, detail=f"engaged={after}"))
    return make_verdict(
        "rollback", checks, "kill-switch drill", {"audit": str(ctx.config.state_dir)}
    )


def gate_deletion(ctx: GateContext) -> GateVerdict:
    """The deletion preflight scanner over the project."""
    from harness.preflight import scan

    report = scan(ctx.project)
    checks = [
        Check(name=f"{b.path}:{b.line}", passed=False, detail=" -> ".join(b.chain))
        for b in report.blockers
    ]
    checks.append(
        Check(name="preflight", passed=report.ok, detail=f"{len(report.blockers)} blockers")
    )
    return make_verdict("deletion", checks, f"deletion set: {len(report.deletion_set)} paths")


def gate_cutover(ctx: GateContext) -> GateVerdict:
    """N consecutive clean parity runs in the parity history (N from the config): passed, with
    full coverage, over the same repo set, policy and engine versions as the newest run."""
    parity = ctx.config.config.parity
    history = ctx.config.location(parity.history)
    options = ctx.config.storage_options if is_uri(history) else None
    runs = recent_runs(history, parity.cutover_runs, options)
    clean = clean_streak(runs)
    return make_verdict(
        "cutover",
        [
            Check(
                name="consecutive_clean_runs",
                passed=clean >= parity.cutover_runs,
                detail=f"{clean}/{parity.cutover_runs} (of {len(runs)} recent runs: passed, "
                "full coverage, same repos, policy and engines)",
            )
        ],
        "parity history",
        {"history": str(history)},
    )


def gate_incremental(ctx: GateContext) -> GateVerdict:
    """Per repo, a scripted edit sequence: after each edit, an incremental build (same run
    folder, warm cache) must equal a build from scratch (no cache), stage by stage
    (:mod:`harness.gates.incremental`)."""
    from harness.gates.incremental import Build, run_incremental
    from harness.run.build import run_build
    from harness.run.extract_options import extract_options
    from harness.run.request import BuildRequest

    backend = ctx.backend or ctx.config.config.engine.primary

    def build_for(cache: Path) -> Build:
        def build(repo: Path, out: Path, cached: bool) -> RunManifest:
            options = extract_options(
                ctx.config, cache_dir=cache, no_cache=not cached, progress=ctx.progress
            )
            request = BuildRequest(repo=repo, out=out, extract=options, views=True)
            return run_build(backend, request).manifest

        return build

    return run_incremental(ctx.repos, ctx.work, build_for, backend)


GATES: dict[str, Callable[[GateContext], GateVerdict]] = {
    "parity": gate_parity,
    "determinism": gate_determinism,
    "perf": gate_perf,
    "observability": gate_observability,
    "rollback": gate_rollback,
    "deletion": gate_deletion,
    "cutover": gate_cutover,
    "incremental": gate_incremental,
}


def run_gate(name: str, ctx: GateContext) -> GateVerdict:
    """Run one gate and time it."""
    started = time.perf_counter()
    verdict = GATES[name](ctx)
    return msgspec.structs.replace(verdict, duration_s=round(time.perf_counter() - started, 3))
