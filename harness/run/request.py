"""What a build is asked to do, and what it produced (independent of the backend)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from backends.contract.result import RunResult
from backends.contract.spec import SpecPolicy
from backends.extract.runner import ExtractOptions
from backends.extract.summary import ExtractSummary
from harness.config.model import MAX_CANDIDATE_TIMEOUT_S


@dataclass(frozen=True)
class BuildRequest:
    """Build the CPG of ``repo`` into the run directory ``out`` (DESIGN §3 layout)."""

    repo: Path
    out: Path
    extract: ExtractOptions = field(default_factory=ExtractOptions)
    policy: SpecPolicy = field(default_factory=SpecPolicy)
    views: bool = False
    """Also materialize every intermediate view under ``OUT/views/`` (stage-by-stage parity)."""
    evidence: Path | None = None
    """Evidence shared with another run (shadow mode); default ``OUT/evidence``."""

    @property
    def evidence_dir(self) -> Path:
        return self.evidence if self.evidence is not None else self.out / "evidence"

    @property
    def outputs_dir(self) -> Path:
        return self.out / "outputs"

    @property
    def views_dir(self) -> Path | None:
        return self.out / "views" if self.views else None


@dataclass(frozen=True)
class BackendBuild:
    """What an adapter returns: the extraction summary, the semantic result and timings."""

    backend: str
    summary: ExtractSummary
    result: RunResult
    timings: dict[str, float]


def check_candidate_timeout(value: float) -> float:
    """``value`` when it is a usable candidate time limit, else ValueError saying why.

    Positive and finite, at most :data:`MAX_CANDIDATE_TIMEOUT_S`; ``nan`` fails every
    comparison, so it is refused too.
    """
    if not 0 < value <= MAX_CANDIDATE_TIMEOUT_S:
        raise ValueError(
            f"{value!r}: a number of seconds above 0 and at most {MAX_CANDIDATE_TIMEOUT_S:g}"
        )
    return float(value)
