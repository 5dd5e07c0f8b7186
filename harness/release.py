"""``codeanatomy release checklist --out DIR``: one pass/fail document from the latest gate
verdicts (determinism, correctness, performance, observability, rollback drill, deletion
preflight), each with a link to its evidence and its age; stale evidence fails, and so does a
passing verdict whose evidence is gone. The written links are relative to the checklist, so
``reports/`` can be uploaded or moved as a whole."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import msgspec

from harness.config.load import LoadedConfig
from harness.gates.evidence import latest
from harness.gates.verdict import relative_link

ITEMS: tuple[tuple[str, str], ...] = (
    ("determinism", "determinism"),
    ("correctness (parity)", "parity"),
    ("performance budgets", "perf"),
    ("observability completeness", "observability"),
    ("rollback drill", "rollback"),
    ("deletion preflight", "deletion"),
)


class ChecklistItem(msgspec.Struct, frozen=True, kw_only=True):
    item: str
    gate: str
    passed: bool
    reason: str
    evidence: str
    """The gate's verdict file: absolute in memory, relative to the checklist once written."""
    age_h: float | None


class Checklist(msgspec.Struct, frozen=True, kw_only=True):
    """``checklist.json``."""

    checklist_version: str
    generated_at: str
    passed: bool
    max_evidence_age_h: float
    items: tuple[ChecklistItem, ...]


def checklist(config: LoadedConfig) -> Checklist:
    """Read the latest verdicts from ``[gates].out`` and judge each item."""
    folder = config.resolve(config.config.gates.out)
    max_age = config.config.gates.max_evidence_age_h
    items = []
    for label, gate in ITEMS:
        ev = latest(folder, gate)
        if ev.verdict is None:
            passed, reason = False, ev.problem or "no verdict"
        elif not ev.fresh(max_age):
            passed, reason = False, f"stale: {ev.age_h} h old (max {max_age} h)"
        elif ev.verdict.passed and (problem := ev.evidence_problem()) is not None:
            passed, reason = False, problem
        else:
            passed, reason = ev.verdict.passed, ev.verdict.summary
        items.append(
            ChecklistItem(
                item=label,
                gate=gate,
                passed=passed,
                reason=reason,
                evidence=str(ev.path),
                age_h=ev.age_h,
            )
        )
    return Checklist(
        checklist_version="checklist/1",
        generated_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        passed=all(i.passed for i in items),
        max_evidence_age_h=max_age,
        items=tuple(items),
    )


def render(check: Checklist) -> str:
    icon = "✅" if check.passed else "❌"
    lines = [f"# {icon} release checklist: {'pass' if check.passed else 'fail'}", ""]
    lines += ["| item | result | age (h) | reason | evidence |", "|---|---|---|---|---|"]
    for i in check.items:
        lines.append(
            f"| {i.item} | {'pass' if i.passed else 'FAIL'} "
            f"| {i.age_h if i.age_h is not None else '-'} "
            f"| {i.reason.replace('|', '/')} | [{Path(i.evidence).name}]({i.evidence}) |"
        )
    return "\n".join(lines) + "\n"


def write_checklist(out: Path, check: Checklist) -> tuple[Path, Path]:
    """Write ``checklist.json`` and ``checklist.md`` into ``out``, links relative to ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    stored = msgspec.structs.replace(
        check,
        items=tuple(
            msgspec.structs.replace(i, evidence=relative_link(i.evidence, out)) for i in check.items
        ),
    )
    js, md = out / "checklist.json", out / "checklist.md"
    js.write_bytes(msgspec.json.format(msgspec.json.encode(stored)) + b"\n")
    md.write_text(render(stored), encoding="utf-8")
    return js, md
