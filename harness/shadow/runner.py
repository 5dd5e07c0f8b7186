"""Run a primary and a candidate backend on one repository and compare them.

Layout (DESIGN §3): ``OUT/evidence`` (shared Stage 0), ``OUT/<primary>/``, ``OUT/<candidate>/``
(each with ``run.json`` and ``outputs/``). The primary runs in this process and its outcome
(result or exception) is what the caller gets; the candidate runs in a child process with a
time limit, and everything it does is only recorded.
"""

from __future__ import annotations

import dataclasses
import random
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import msgspec

from harness.compare.model import ParitySeverity
from harness.compare.policy import ParityPolicy
from harness.compare.result import Finding, Result, Side, judge
from harness.compare.runs import RunComparison, compare_runs
from harness.compare.tables import TableRules
from harness.errors import EngineFailure
from harness.run.build import TIMING_DIGITS, extract_once
from harness.run.manifest import RunManifest, read_manifest
from harness.run.request import BuildRequest
from harness.shadow.containment import primary_tampering, run_candidate
from harness.shadow.observation import HarnessFault, Observation
from harness.shadow.side import SidePlan, execute_side

if TYPE_CHECKING:
    from harness.compare.incremental import StepRecord

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
    incremental: bool = False
    """Also build each side from scratch (``OUT/fresh``, no cache) and compare it with the
    side's build, an incremental one from the folder's previous state, as ``gate incremental``
    does: a difference is a sev1 finding, a side with no previous build a sev2 one (not
    evaluated, never a pass)."""


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
    incremental: tuple[StepRecord, ...] = ()
    """``incremental`` option: per side, its incremental build compared with a fresh one."""


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


@dataclass(frozen=True)
class _Sides:
    """What running both sides gave: each side's observation, the primary's manifest or its
    exception, and the faults (the candidate's breaches of its containment)."""

    observations: dict[str, Observation]
    manifest: RunManifest | None
    primary_error: EngineFailure | None
    faults: tuple[HarnessFault, ...]


def _run_sides(plan_p: SidePlan, plan_c: SidePlan, first: str, timeout_s: float) -> _Sides:
    """Run the primary (in this process) and the candidate (contained, in a child), ``first``
    first; then check that the candidate left the primary's run alone."""
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
                backend=plan_p.backend,
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
            child, breaches = run_candidate(plan_c, plan_p, timeout_s)
            faults.extend(breaches)
            observations[role] = Observation(
                backend=plan_c.backend,
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
    return _Sides(observations, manifest, primary_error, tuple(faults))


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
    sides = _run_sides(plan_p, plan_c, first, options.candidate_timeout_s)
    observations, manifest, primary_error = sides.observations, sides.manifest, sides.primary_error
    faults = list(sides.faults)
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
    records: tuple[StepRecord, ...] = ()
    if options.incremental:
        records, fresh_faults = _incremental(request, (plan_p, plan_c), observations, options)
        faults.extend(fresh_faults)
    result = judge(
        subject=Path(request.repo).name,
        comparison=comparison,
        primary=_side_manifest(observations["primary"]),
        candidate=_side_manifest(observations["candidate"]),
        policy=options.policy,
        failures=_failures(observations),
        faults=[f"{f.where}: {f.error}" for f in faults],
        noise=noise,
        checks=incremental_findings(records),
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
        incremental=records,
    )
    if options.strict:
        _raise_if_unclean(outcome)
    return outcome


FRESH_DIR = "fresh"
"""``OUT/fresh``: the from-scratch build of ``shadow --incremental`` (replaced by each run)."""
INCREMENTAL_IDENTICAL = "INCREMENTAL_IDENTICAL"
INCREMENTAL_CACHE_ROWS = "INCREMENTAL_CACHE_ROWS"
INCREMENTAL_DIFFERS = "INCREMENTAL_DIFFERS"
INCREMENTAL_FAILED = "INCREMENTAL_FAILED"
INCREMENTAL_NOT_EVALUATED = "INCREMENTAL_NOT_EVALUATED"
COVERAGE_PREFIX = "COVERAGE_"
"""The codes of the parity Result's coverage findings (a source failed, a table left empty)."""


def _updated(manifest: RunManifest) -> bool:
    """Whether the build updated tables an earlier build of the side wrote (some table had a
    version before it): an incremental build, not one from scratch."""
    return any(isinstance(t.version_before, int) for t in (*manifest.inputs, *manifest.outputs))


def _unevaluated(role: str, plan: SidePlan, detail: str) -> StepRecord:
    from harness.compare.incremental import StepRecord

    return StepRecord(
        step=role,
        kind="shadow",
        description=f"{role} {plan.backend}: incremental build vs a fresh one",
        status="not_evaluated",
        detail=detail,
        incremental=plan.run_dir,
    )


def _incremental(
    request: BuildRequest,
    plans: tuple[SidePlan, SidePlan],
    observations: dict[str, Observation],
    options: ShadowOptions,
) -> tuple[tuple[StepRecord, ...], list[HarnessFault]]:
    """``shadow --incremental``: each side that built incrementally (its folder held a previous
    build) is compared with the same side built from scratch into ``OUT/fresh`` (shared or
    isolated Stage 0 as the run's, no extraction cache), by the comparison of ``gate
    incremental`` (:func:`harness.compare.incremental.compare_step`). A side that built from
    scratch, or failed, is not evaluated (a record saying why, never a pass)."""
    from harness.compare.incremental import StepRecord, compare_step, step_record

    records: dict[str, StepRecord] = {}
    wanted: list[str] = []
    for role, plan in zip(("primary", "candidate"), plans, strict=True):
        manifest = _side_manifest(observations[role])
        if manifest is None:
            records[role] = _unevaluated(
                role, plan, f"the {role} build failed: there is no build to compare"
            )
        elif not _updated(manifest):
            records[role] = _unevaluated(
                role,
                plan,
                f"the run folder held no previous build of the {role} ({plan.run_dir}): it "
                "was built from scratch, so no incremental build was compared; run the "
                "same command again after a change",
            )
        else:
            wanted.append(role)
    faults: list[HarnessFault] = []
    if wanted:
        names = {Path(p.run_dir).name for p in plans}
        fresh_out = request.out / (FRESH_DIR if FRESH_DIR not in names else f"{FRESH_DIR}-run")
        try:
            if fresh_out.exists():
                shutil.rmtree(fresh_out)
            fresh_request = dataclasses.replace(
                request,
                out=fresh_out,
                extract=dataclasses.replace(request.extract, cache_dir=None),
                evidence=None,
            )
            fresh_p, fresh_c, _ = _plans(fresh_request, plans[0].backend, plans[1].backend, options)
            for plan in (fresh_p, fresh_c):
                _own_folder(Path(plan.run_dir))
            fresh = _run_sides(fresh_p, fresh_c, "primary", options.candidate_timeout_s)
            faults += [
                msgspec.structs.replace(f, where=f"incremental fresh build: {f.where}")
                for f in fresh.faults
            ]
            for role in wanted:
                plan = plans[0] if role == "primary" else plans[1]
                done = fresh.observations[role]
                description = f"{role} {plan.backend}: incremental build vs a fresh one"
                inc_dir, fresh_dir = Path(plan.run_dir), Path(done.run_dir)
                if not done.ok:
                    error = done.error or {}
                    records[role] = StepRecord(
                        step=role,
                        kind="shadow",
                        description=description,
                        status="error",
                        detail=f"the incremental build succeeded, the fresh one "
                        f"{'timed out' if done.timed_out else 'failed'}: "
                        f"{error.get('code')} {error.get('message', '')}".strip(),
                        incremental=str(inc_dir),
                        fresh=str(fresh_dir),
                    )
                    continue
                compared = compare_step(
                    inc_dir, fresh_dir, f"{Path(request.repo).name}:{role}:incremental"
                )
                records[role] = step_record(
                    role, "shadow", description, (inc_dir, fresh_dir), compared
                )
        except Exception as exc:  # a harness fault, recorded (never raised unless strict)
            why = f"{type(exc).__name__}: {exc}"
            faults.append(HarnessFault(where="incremental", error=why))
            for role in wanted:
                if role not in records:
                    plan = plans[0] if role == "primary" else plans[1]
                    records[role] = StepRecord(
                        step=role,
                        kind="shadow",
                        description=f"{role} {plan.backend}: incremental build vs a fresh one",
                        status="error",
                        detail=f"the fresh build or the comparison failed: {why}",
                        incremental=plan.run_dir,
                    )
    return tuple(records[r] for r in ("primary", "candidate")), faults


def incremental_findings(records: tuple[StepRecord, ...]) -> list[Finding]:
    """The findings of ``shadow --incremental``, one or more per side: identical (``ok``), or
    identical but for the scip cache's CONTRACT §5.7 rows (sev3); each difference (sev1); a
    fresh build or comparison that failed (sev1); not evaluated: no previous build, a failed
    side, a coverage gap, a comparison over nothing (sev2, never a pass)."""
    if not records:
        return []
    from harness.compare.incremental import describe_differences

    out: list[Finding] = []
    for r in records:
        where = f"{r.description}: "

        def step(code: str, severity: ParitySeverity, message: str, r: StepRecord = r) -> Finding:
            return Finding(code=code, severity=severity, stage="-", table=r.step, message=message)

        if r.status == "pass":
            if r.exception is None:
                out.append(step(INCREMENTAL_IDENTICAL, "ok", where + r.detail))
            else:
                out.append(step(INCREMENTAL_CACHE_ROWS, "sev3", where + r.detail))
        elif r.status == "fail" and r.differences:
            # A coverage gap of the two builds (a source failed, a table empty on both) is no
            # agreement, but no difference between them either: not evaluated, as in a parity
            # Result (sev2).
            for d in r.differences:
                gap = d.code.startswith(COVERAGE_PREFIX)
                out.append(
                    Finding(
                        code=INCREMENTAL_NOT_EVALUATED if gap else INCREMENTAL_DIFFERS,
                        severity="sev2" if gap else "sev1",
                        stage=d.stage,
                        table=d.table,
                        message=f"{where}{'not evaluated' if gap else 'differs'}: "
                        f"{describe_differences([d])}",
                    )
                )
        elif r.status == "error":
            out.append(step(INCREMENTAL_FAILED, "sev1", where + r.detail))
        else:
            out.append(step(INCREMENTAL_NOT_EVALUATED, "sev2", f"{where}not evaluated: {r.detail}"))
    return out


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
