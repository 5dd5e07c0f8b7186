"""A gate's verdict: versioned JSON (``<gate>.json``) plus a Markdown summary (``<gate>.md``)."""

from __future__ import annotations

import datetime as dt
import os
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
    """What the verdict was decided on (runs, reports, the parity history). Absolute while in
    memory; in a written verdict, relative to the folder of the verdict file, so that the
    verdict folder can be moved or uploaded with its evidence and its links still resolve."""
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


def relative_link(target: str, folder: Path) -> str:
    """``target`` as a POSIX link relative to ``folder`` (where the file holding the link is);
    a relative target is kept as it is."""
    if not Path(target).is_absolute():
        return target
    try:
        return Path(os.path.relpath(target, folder.absolute())).as_posix()
    except ValueError:  # no relative path between them (another drive on Windows)
        return target


def write_verdict(out: Path, verdict: GateVerdict) -> Path:
    """Write ``out/<gate>.json`` and ``out/<gate>.md`` (evidence links relative to ``out``);
    return the JSON path."""
    out.mkdir(parents=True, exist_ok=True)
    stored = msgspec.structs.replace(
        verdict, evidence={k: relative_link(v, out) for k, v in verdict.evidence.items()}
    )
    path = out / f"{verdict.gate}.json"
    path.write_bytes(msgspec.json.format(msgspec.json.encode(stored)) + b"\n")
    (out / f"{verdict.gate}.md").write_text(render_markdown(stored), encoding="utf-8")
    return path


def read_verdict(path: Path) -> GateVerdict:
    """Read a verdict file back (its evidence links as stored: relative to its folder)."""
    return msgspec.json.decode(path.read_bytes(), type=GateVerdict)
