"""The kill-switch audit log: ``<state_dir>/killswitch.audit.jsonl``, append-only.

One JSON object per line, one line per engage or release, written under the kill-switch
lock with flush + fsync *before* the state file changes, so no change of state is ever
missing from the log. Replaying the log (``replay``) yields the final state and checks that
each entry's ``previous_state`` is the state the entry before it left.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Final, Literal

import msgspec

AUDIT_FILENAME: Final = "killswitch.audit.jsonl"

Op = Literal["engage", "release"]
SwitchLabel = Literal["engaged", "released"]
PreviousLabel = Literal["engaged", "released", "absent", "corrupt"]
"""The state before an operation: ``absent`` (no state file yet) or ``corrupt`` (unreadable)."""


class AuditEntry(msgspec.Struct, frozen=True, kw_only=True):
    """One engage or release: who, why, when, from which state to which, from where."""

    op: Op
    actor: str
    reason: str
    at: str
    previous_state: PreviousLabel
    new_state: SwitchLabel
    pid: int
    host: str


class AuditLog(msgspec.Struct, frozen=True, kw_only=True):
    """Entries read from the log, oldest first; ``bad_lines`` counts lines that do not decode."""

    entries: tuple[AuditEntry, ...]
    bad_lines: int = 0


class Replay(msgspec.Struct, frozen=True, kw_only=True):
    """The state the log ends in, and the 0-based indexes where the chain of states breaks."""

    final_state: PreviousLabel
    breaks: tuple[int, ...] = ()


_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder(AuditEntry)


def audit_path(state_dir: Path) -> Path:
    """Where the audit log of ``state_dir`` lives."""
    return state_dir / AUDIT_FILENAME


def append_entry(path: Path, entry: AuditEntry) -> None:
    """Append one line and make it durable (call under the kill-switch lock)."""
    line = _encoder.encode(entry) + b"\n"
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        written = os.write(fd, line)
        if written != len(line):  # a short write to a local file means the disk is full
            raise OSError(f"short write to {path}: {written} of {len(line)} bytes")
        os.fsync(fd)
    finally:
        os.close(fd)


def read_audit(path: Path, *, last: int | None = None) -> AuditLog:
    """The entries of the log (the ``last`` N when given); a missing log has none."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return AuditLog(entries=())
    entries: list[AuditEntry] = []
    bad = 0
    for line in raw.splitlines():
        if not line.strip():
            continue
        try:
            entries.append(_decoder.decode(line))
        except msgspec.DecodeError:
            bad += 1
    chosen = entries if last is None else entries[-last:] if last > 0 else []
    return AuditLog(entries=tuple(chosen), bad_lines=bad)


def replay(entries: tuple[AuditEntry, ...]) -> Replay:
    """Fold the log into its final state; note where an entry's previous state is not the last."""
    state: PreviousLabel = "absent"
    breaks: list[int] = []
    for index, entry in enumerate(entries):
        if entry.previous_state not in (state, "corrupt"):
            breaks.append(index)
        state = entry.new_state
    return Replay(final_state=state, breaks=tuple(breaks))
