"""A gate's verdict: versioned JSON (``<gate>.json``) plus a Markdown summary (``<gate>.md``)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import msgspec

GATE_VERSION = "gate/1"


class Check(msgspec.Struct, frozen=True, kw_only=True):
    """One thing a gate checked."""

    name: str
    passed: bool
    detail: str = ""


class GateVerdict(msgspec.Struct, frozen=True, kw_only=True):
    """The verdict of one gate run."""

    gate_version: str
    gate: str
    passed: bool
    summary: str
    checks: tuple[Check, ...]
    evidence: dict[str, str]
    generated_at: str
    duration_s: float


def make_verdict(
    gate: str,
    checks: list[Check],
    summary: str,
    evidence: dict[str, str] | None = None,
    duration_s: float = 0.0,
) -> GateVerdict:
    """A verdict that passes iff every check passed (and there is at least one)."""
    return GateVerdict(
        gate_version=GATE_VERSION,
        gate=gate,
        passed=bool(checks) and all(c.passed for c in checks),
        summary=summary,
        checks=tuple(checks),
        evidence=dict(evidence or {}),
        generated_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        duration_s=round(duration_s, 3),
    )


def render_markdown(verdict: GateVerdict) -> str:
    icon = "✅" if verdict.passed else "❌"
    lines = [f"## {icon} gate `{verdict.gate}`: {'pass' if verdict.passed else 'fail'}", ""]
    lines += [verdict.summary, "", "| check | result | detail |", "|---|---|---|"]
    lines += [
        f"| {c.name} | {'pass' if c.passed else 'FAIL'} | {c.detail.replace('|', '/')} |"
        for c in verdict.checks
    ]
    if verdict.evidence:
        lines += ["", "Evidence: " + ", ".join(f"[{k}]({v})" for k, v in verdict.evidence.items())]
    return "\n".join(lines) + "\n"


def write_verdict(out: Path, verdict: GateVerdict) -> Path:
    """Write ``out/<gate>.json`` and ``out/<gate>.md``; return the JSON path."""
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{verdict.gate}.json"
    path.write_bytes(msgspec.json.format(msgspec.json.encode(verdict)) + b"\n")
    (out / f"{verdict.gate}.md").write_text(render_markdown(verdict), encoding="utf-8")
    return path


def read_verdict(path: Path) -> GateVerdict:
    return msgspec.json.decode(path.read_bytes(), type=GateVerdict)
