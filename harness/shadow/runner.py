"""Run a primary and a candidate backend on one repository and compare them.

Layout (DESIGN §3): ``OUT/evidence`` (shared Stage 0), ``OUT/<primary>/``, ``OUT/<candidate>/``
(each with ``run.json`` and ``outputs/``). The primary runs in this process and its outcome
(result or exception) is what the caller gets; the candidate runs in a child process with a
time limit, and everything it does is only recorded.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import msgspec

from harness.compare.policy import ParityPolicy
from harness.compare.result import Result, Side, judge
from harness.compare.runs import RunComparison, compare_runs
from harness.compare.tables import TableRules
from harness.errors import EngineFailure
from harness.run.build import TIMING_DIGITS, extract_once
from harness.run.manifest import RunManifest, read_manifest
from harness.run.request import BuildRequest
from harness.shadow.containment import primary_tampering, run_candidate
from harness.shadow.observation import HarnessFault, Observation
from harness.shadow.side import SidePlan, execute_side

Order = Literal["random", "primary_first", "candidate_first"]


class ShadowError(Exception):
    """Strict mode only: the candidate failed, or the harness did, or the sides differ."""


@dataclass(frozen=True)
class ShadowOptions:
    """How to run the two sides."""

    isolated: bool = False
    order: Order = "random"
    seed: int | None = None
    candidate_timeout_s: float = 1800.0
    strict: bool = False
    views: bool = True
    rules: dict[str, TableRules] = field(default_factory=dict)
    noise_baseline: bool = False
    """Run the primary twice: what differs between its own runs is volatile, reported as
    noise (sev3), not as a mismatch (DESIGN §7)."""
    policy: ParityPolicy = field(default_factory=ParityPolicy)
    """The parity policy the Result applies (allow-list); ``rules`` are its per-table rules."""


@dataclass(frozen=True)
class ShadowOutcome:
    """Both observations, the primary's manifest (or its exception), the comparison and
    the parity :class:`Result` that judges them (the only verdict)."""

    primary: Observation
    candidate: Observation
    order: tuple[str, str]
    manifest: RunManifest | None
    primary_error: EngineFailure | None
    comparison: RunComparison | None
    faults: tuple[HarnessFault, ...]
    extract_s: float
    result: Result
    noise: RunComparison | None = None


def side_dirs(primary: str, candidate: str) -> tuple[str, str]:
    """Folder names of the two sides: the backend names (a plugin ``module:NAME`` gives
    ``name``), the candidate's suffixed when both are the same backend."""

    def name(backend: str) -> str:
        return backend.rpartition(":")[2].lower()

    first, second = name(primary), name(candidate)
    return first, (second if second != first else f"{second}-candidate")


def _plans(
    request: BuildRequest, primary: str, candidate: str, options: ShadowOptions
) -> tuple[SidePlan, SidePlan, float]:
    base = {
        "repo": str(request.repo),
        "views": options.views,
        "policy": request.policy,
        "workers": request.extract.workers,
        "cache_dir": None if request.extract.cache_dir is None else str(request.extract.cache_dir),
    }
    dirs = side_dirs(primary, candidate)
    roles = ((primary, "primary", dirs[0]), (candidate, "candidate", dirs[1]))
    if options.isolated:
        sides = [
            SidePlan(backend=b, role=r, mode="build", run_dir=str(request.out / d), **base)  # type: ignore[arg-type]
            for b, r, d in roles
        ]
        return sides[0], sides[1], 0.0
    evidence = extract_once(request)
    shared = {
        "mode": "semantics",
        "evidence_dir": str((request.out / "evidence").resolve()),
        "spec_json": msgspec.json.encode(evidence.spec),
        "summary_json": msgspec.json.encode(evidence.summary),
        "extract_s": evidence.extract_s,
    }
    sides = [
        SidePlan(backend=b, role=r, run_dir=str(request.out / d), **base, **shared)  # type: ignore[arg-type]
        for b, r, d in roles
    ]
    return sides[0], sides[1], evidence.extract_s


def _own_folder(run_dir: Path) -> None:
    """Make ``run_dir`` a real folder of its own. A link there (``OUT/rust -> OUT/legacy``)
    would send one side's writes into the other's run, so it is removed, as is a file of that
    name (the output folder is ours and held), before either side runs."""
    if run_dir.is_symlink() or (run_dir.exists() and not run_dir.is_dir()):
        run_dir.unlink()
    run_dir.mkdir(parents=True, exist_ok=True)


def run_shadow(
    request: BuildRequest, primary: str, candidate: str, options: ShadowOptions | None = None
) -> ShadowOutcome:
    """Run both sides; return everything observed. Raises only the primary's own failure
    (after the candidate ran and was recorded), or ShadowError in strict mode."""
    options = options or ShadowOptions()
    plan_p, plan_c, extract_s = _plans(request, primary, candidate, options)
    for plan in (plan_p, plan_c):
        _own_folder(Path(plan.run_dir))
    rng = random.Random(options.seed)
    first = {"primary_first": "primary", "candidate_first": "candidate"}.get(
        options.order, rng.choice(("primary", "candidate"))
    )
    observations: dict[str, Observation] = {}
    faults: list[HarnessFault] = []
    manifest: RunManifest | None = None
    primary_error: EngineFailure | None = None
    for role in (first, "candidate" if first == "primary" else "primary"):
        if role == "primary":
            wall, cpu = time.perf_counter(), time.process_time()
            error = None
            try:
                manifest = execute_side(plan_p)
            except EngineFailure as exc:
                primary_error, error = exc, exc.to_dict()
            observations[role] = Observation(
                backend=primary,
                role="primary",
                ok=error is None,
                run_dir=plan_p.run_dir,
                wall_s=round(time.perf_counter() - wall, TIMING_DIGITS),
                cpu_s=round(time.process_time() - cpu, TIMING_DIGITS),
                error=error,
            )
        else:
            wall = time.perf_counter()
            # Contained: a breach is a recorded fault and a failed candidate, never raised.
            child, breaches = run_candidate(plan_c, plan_p, options.candidate_timeout_s)
            faults.extend(breaches)
            observations[role] = Observation(
                backend=candidate,
                role="candidate",
                ok=child.manifest is not None,
                run_dir=plan_c.run_dir,
                wall_s=round(time.perf_counter() - wall, TIMING_DIGITS),
                cpu_s=round(child.cpu_s, TIMING_DIGITS),
                timed_out=child.timed_out,
                error=child.error,
            )
    if manifest is not None:
        late = primary_tampering(Path(plan_p.run_dir), manifest)
        if late and observations["candidate"].ok:
            # Written after its own run (a descendant it left behind): not compared either.
            error = {"code": late[0].code, "message": late[0].error}
            observations["candidate"] = msgspec.structs.replace(
                observations["candidate"], ok=False, error=error
            )
        faults.extend(late)
    comparison = None
    noise = None
    if observations["primary"].ok and options.noise_baseline:
        try:
            noise = _noise_baseline(plan_p, options)
        except Exception as exc:  # recorded, never raised to the caller (unless strict)
            faults.append(HarnessFault(where="noise", error=f"{type(exc).__name__}: {exc}"))
    if observations["primary"].ok and observations["candidate"].ok:
        try:
            comparison = compare_runs(
                Path(plan_p.run_dir), Path(plan_c.run_dir), options.rules or None
            )
        except Exception as exc:  # a harness fault never reaches the caller (unless strict)
            faults.append(HarnessFault(where="compare", error=f"{type(exc).__name__}: {exc}"))
    result = judge(
        subject=Path(request.repo).name,
        comparison=comparison,
        primary=_side_manifest(observations["primary"]),
        candidate=_side_manifest(observations["candidate"]),
        policy=options.policy,
        failures=_failures(observations),
        faults=[f"{f.where}: {f.error}" for f in faults],
        noise=noise,
    )
    outcome = ShadowOutcome(
        primary=observations["primary"],
        candidate=observations["candidate"],
        order=(first, "candidate" if first == "primary" else "primary"),
        manifest=manifest,
        primary_error=primary_error,
        comparison=comparison,
        faults=tuple(faults),
        extract_s=round(extract_s, TIMING_DIGITS),
        result=result,
        noise=noise,
    )
    if options.strict:
        _raise_if_unclean(outcome)
    return outcome


def _noise_baseline(plan: SidePlan, options: ShadowOptions) -> RunComparison:
    """Run the primary a second time and compare it with its first run."""
    again = msgspec.structs.replace(plan, run_dir=f"{plan.run_dir}-noise", role="primary")
    execute_side(again)
    return compare_runs(Path(plan.run_dir), Path(again.run_dir), options.rules or None)


def _side_manifest(observation: Observation) -> RunManifest | None:
    path = Path(observation.run_dir) / "run.json"
    return read_manifest(path) if observation.ok and path.is_file() else None


def _failures(observations: dict[str, Observation]) -> list[tuple[Side, str]]:
    out: list[tuple[Side, str]] = []
    for side in ("primary", "candidate"):
        o = observations[side]
        if not o.ok:
            error = o.error or {}
            what = "timed out" if o.timed_out else f"failed: {error.get('code')}"
            out.append((o.role, f"{o.role} {o.backend} {what} {error.get('message', '')}".strip()))
    return out


def _raise_if_unclean(outcome: ShadowOutcome) -> None:
    if outcome.result.blocks:
        blocking = [
            f"{f.code} {f.stage}/{f.table}: {f.message}"
            for f in outcome.result.findings
            if f.blocks
        ]
        raise ShadowError(
            f"parity {outcome.result.severity} (first divergent stage "
            f"{outcome.result.first_divergent_stage}): {blocking}"
        )
