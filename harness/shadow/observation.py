"""What one side of a shadow run did: immutable, whatever happened."""

from __future__ import annotations

from typing import Any, Literal

import msgspec

Role = Literal["primary", "candidate"]


class Observation(msgspec.Struct, frozen=True, kw_only=True):
    """The result or the exception of one backend, with wall and CPU time."""

    backend: str
    role: Role
    ok: bool
    run_dir: str
    wall_s: float
    cpu_s: float
    timed_out: bool = False
    error: dict[str, Any] | None = None


class HarnessFault(msgspec.Struct, frozen=True, kw_only=True):
    """A failure of the harness itself (comparison, report), or a breach of the candidate's
    containment (``code`` ``CANDIDATE_WROTE_PRIMARY``, ``CANDIDATE_FOREIGN_TABLE``), recorded
    instead of raised."""

    where: str
    error: str
    code: str | None = None
