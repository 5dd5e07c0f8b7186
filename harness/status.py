"""``codeanatomy status``: the migration phase (DESIGN §8), the gates, the kill switch, and
what blocks the next phase."""

from __future__ import annotations

from pathlib import Path

import msgspec

from harness.config.load import LoadedConfig
from harness.config.model import CONFIG_HAMILTON_DEPRECATED
from harness.gates.evidence import latest

PHASES: tuple[str, ...] = (
    "0 contract freeze",
    "1 gateway + shadow",
    "2 new engine parity for build",
    "3 plan parity tiers",
    "4 observability / artifact names",
    "5 config migration",
    "6 remove residual legacy references",
    "7 delete legacy",
)


class PhaseState(msgspec.Struct, frozen=True, kw_only=True):
    phase: int
    name: str
    done: bool
    blockers: tuple[str, ...]


class GateState(msgspec.Struct, frozen=True, kw_only=True):
    gate: str
    passed: bool | None
    """None: never run (or unreadable); False also when a passing verdict's evidence is gone."""
    age_h: float | None
    evidence: str
    """The verdict file, or why there is none or why it does not count."""


class Status(msgspec.Struct, frozen=True, kw_only=True):
    """The whole status (``--json``)."""

    phase: int
    phase_name: str
    phases: tuple[PhaseState, ...]
    gates: tuple[GateState, ...]
    kill_switch: dict[str, object]
    next_blockers: tuple[str, ...]


def _gate_ok(states: dict[str, GateState], gate: str) -> list[str]:
    s = states[gate]
    if s.passed:
        return []
    return [f"gate {gate} {'has not run' if s.passed is None else 'fails'} ({s.evidence})"]


def status(config: LoadedConfig, project: Path) -> Status:
    """Compute the status from the code tree, the config, the kill switch and gate verdicts."""
    from harness.gates.gates import GATES
    from harness.killswitch.decision import effective_kill_switch

    folder = config.resolve(config.config.gates.out)
    gates = []
    for gate in GATES:
        ev = latest(folder, gate)
        passed = None if ev.verdict is None else ev.verdict.passed
        evidence = str(ev.path) if ev.verdict is not None else (ev.problem or "")
        problem = ev.evidence_problem() if passed else None
        if problem is not None:
            # The same rule as the release checklist: a pass whose evidence is gone is not one.
            passed, evidence = False, f"{ev.path}: {problem}"
        gates.append(GateState(gate=gate, passed=passed, age_h=ev.age_h, evidence=evidence))
    states = {g.gate: g for g in gates}
    legacy_section = any(w.code == CONFIG_HAMILTON_DEPRECATED for w in config.warnings)
    checks: list[list[str]] = [
        [] if (project / "backends/contract/CONTRACT.md").is_file() else ["no contract"],
        []
        if (project / "harness/gateway.py").is_file() and (project / "harness/shadow").is_dir()
        else ["no gateway/shadow"],
        _gate_ok(states, "parity") + _gate_ok(states, "determinism"),
        _gate_ok(states, "parity"),
        _gate_ok(states, "observability"),
        ["the configuration still has a [hamilton] section: run codeanatomy config migrate"]
        if legacy_section
        else [],
        _gate_ok(states, "deletion") + _gate_ok(states, "cutover") + _gate_ok(states, "rollback"),
        ["backends/legacy/ still exists"] if (project / "backends/legacy").exists() else [],
    ]
    phases = []
    current = -1
    for i, (name, blockers) in enumerate(zip(PHASES, checks, strict=True)):
        done = not blockers
        phases.append(PhaseState(phase=i, name=name, done=done, blockers=tuple(blockers)))
        if done and current == i - 1:
            current = i
    kill = effective_kill_switch(config)
    nxt = phases[current + 1].blockers if current + 1 < len(phases) else ()
    return Status(
        phase=max(current, 0),
        phase_name=PHASES[max(current, 0)],
        phases=tuple(phases),
        gates=tuple(gates),
        kill_switch={"engaged": kill.engaged, "source": kill.source, "detail": kill.detail},
        next_blockers=nxt,
    )
