"""The latest verdict of each gate, with its age: what ``status`` and the checklist read."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import msgspec

from harness.gates.verdict import GateVerdict, read_verdict


@dataclass(frozen=True)
class GateEvidence:
    """One gate's latest verdict (None when it never ran) and how old it is."""

    gate: str
    path: Path
    verdict: GateVerdict | None
    age_h: float | None
    problem: str | None = None

    def fresh(self, max_age_h: float) -> bool:
        return self.age_h is not None and self.age_h <= max_age_h

    def links(self) -> dict[str, Path]:
        """The verdict's evidence, resolved: a written verdict stores its links relative to
        its own folder (older verdicts: absolute paths, kept as they are)."""
        if self.verdict is None:
            return {}
        return {k: self.path.parent / v for k, v in self.verdict.evidence.items()}

    def missing_links(self) -> dict[str, Path]:
        """The evidence links that no longer resolve (deleted since the gate ran: for example
        the temporary folders older versions of the gate command wrote to)."""
        return {k: p for k, p in self.links().items() if not p.exists()}

    def evidence_problem(self) -> str | None:
        """Why the verdict cannot be trusted as evidence of a pass, if it cannot."""
        missing = self.missing_links()
        if not missing:
            return None
        return "evidence missing: " + ", ".join(f"{k} ({p})" for k, p in sorted(missing.items()))


def latest(folder: Path, gate: str, now: dt.datetime | None = None) -> GateEvidence:
    """Read ``folder/<gate>.json``; a missing or unreadable file is evidence of nothing."""
    path = folder / f"{gate}.json"
    if not path.is_file():
        return GateEvidence(gate, path, None, None, "never run")
    try:
        verdict = read_verdict(path)
        at = dt.datetime.fromisoformat(verdict.generated_at)
    except (OSError, ValueError, msgspec.DecodeError, msgspec.ValidationError) as exc:
        return GateEvidence(gate, path, None, None, f"unreadable: {exc}")
    now = now or dt.datetime.now(dt.UTC)
    return GateEvidence(gate, path, verdict, round((now - at).total_seconds() / 3600, 2))
