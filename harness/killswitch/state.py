"""The kill-switch state file and the two operations that change it (DESIGN §8).

``<state_dir>/killswitch.json`` holds the last engage or release (engaged, actor, reason, UTC
time, and the state before it). ``engage`` and ``release`` serialize on an exclusive
``fcntl.flock`` of ``<state_dir>/killswitch.lock``: read, append the audit line (flush +
fsync), then replace the state file atomically (temp file + ``os.replace``). Readers take no
lock: they see the old file or the new one, never a torn one, so a build in another process
sees an engage as soon as ``engage`` returns.

A state file that cannot be read or decoded is reported (``KILLSWITCH_STATE_CORRUPT``), never
raised: the decision layer treats it as engaged (fail safe), and the next engage or release
replaces it.
"""

from __future__ import annotations

import fcntl
import os
import socket
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

import msgspec

from harness.killswitch.audit import AuditEntry, PreviousLabel, append_entry, audit_path

STATE_FILENAME: Final = "killswitch.json"
LOCK_FILENAME: Final = "killswitch.lock"
STATE_VERSION: Final = 1

KILLSWITCH_STATE_CORRUPT: Final = "KILLSWITCH_STATE_CORRUPT"
KILLSWITCH_ENV_UNRECOGNIZED: Final = "KILLSWITCH_ENV_UNRECOGNIZED"
KILLSWITCH_AUDIT_CORRUPT: Final = "KILLSWITCH_AUDIT_CORRUPT"
KILLSWITCH_REASON_REQUIRED: Final = "KILLSWITCH_REASON_REQUIRED"
KILLSWITCH_ACTOR_REQUIRED: Final = "KILLSWITCH_ACTOR_REQUIRED"

KILLSWITCH_CODES: Final[dict[str, str]] = {
    KILLSWITCH_STATE_CORRUPT: "the state file cannot be read or decoded; treated as engaged",
    KILLSWITCH_ENV_UNRECOGNIZED: "CODEANATOMY_KILL_SWITCH has an unknown value; treated as engaged",
    KILLSWITCH_AUDIT_CORRUPT: "lines of the audit log do not decode; they are skipped",
    KILLSWITCH_REASON_REQUIRED: "engage needs a non-empty --reason",
    KILLSWITCH_ACTOR_REQUIRED: "the actor is empty",
}

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    """The real clock (tests pass their own)."""
    return datetime.now(UTC)


def iso_utc(moment: datetime) -> str:
    """ISO-8601 in UTC with microseconds and a ``Z`` (a naive datetime is taken as UTC)."""
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return aware.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class KillSwitchError(Exception):
    """An operation on the kill switch was refused; ``code`` is one of KILLSWITCH_CODES."""

    def __init__(self, code: str, message: str) -> None:
        self.code = code
        super().__init__(message)


class Snapshot(msgspec.Struct, frozen=True, kw_only=True):
    """One recorded position of the switch."""

    engaged: bool
    actor: str
    reason: str
    at: str


class KillSwitchState(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The content of ``killswitch.json``: the last operation and the state before it."""

    engaged: bool
    actor: str
    reason: str
    at: str
    previous: Snapshot | None = None
    version: int = STATE_VERSION

    def snapshot(self) -> Snapshot:
        """This state without its history."""
        return Snapshot(engaged=self.engaged, actor=self.actor, reason=self.reason, at=self.at)


class StateRead(msgspec.Struct, frozen=True, kw_only=True):
    """The result of reading the state file: a state, nothing (absent), or a problem."""

    state: KillSwitchState | None = None
    problem: str | None = None

    @property
    def label(self) -> PreviousLabel:
        """The state as the audit log names it."""
        if self.problem is not None:
            return "corrupt"
        if self.state is None:
            return "absent"
        return "engaged" if self.state.engaged else "released"


class Transition(msgspec.Struct, frozen=True, kw_only=True):
    """What one engage or release did."""

    before: StateRead
    state: KillSwitchState
    entry: AuditEntry


_decoder = msgspec.json.Decoder(KillSwitchState)


def state_path(state_dir: Path) -> Path:
    """Where the state file of ``state_dir`` lives."""
    return state_dir / STATE_FILENAME


def read_state(state_dir: Path) -> StateRead:
    """Read the state file fresh from disk (no caching: another process may just have written)."""
    path = state_path(state_dir)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return StateRead()
    except OSError as exc:
        return StateRead(problem=f"{path}: cannot read: {exc}")
    try:
        return StateRead(state=_decoder.decode(raw))
    except msgspec.DecodeError as exc:
        return StateRead(problem=f"{path}: corrupt: {exc}")


def write_state(state_dir: Path, state: KillSwitchState) -> None:
    """Replace the state file atomically and durably (call under the lock)."""
    data = msgspec.json.format(msgspec.json.encode(state)) + b"\n"
    fd, temp = tempfile.mkstemp(dir=state_dir, prefix=f".{STATE_FILENAME}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        Path(temp).replace(state_path(state_dir))
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    _fsync_dir(state_dir)


def _fsync_dir(folder: Path) -> None:
    """Make the rename itself durable (a directory fsync; best effort where unsupported)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@contextmanager
def locked(state_dir: Path) -> Iterator[None]:
    """Hold the exclusive kill-switch lock (blocks until other writers are done)."""
    state_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(state_dir / LOCK_FILENAME, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def engage(state_dir: Path, *, actor: str, reason: str, clock: Clock = utc_now) -> Transition:
    """Engage the kill switch: every build from now on is served by the legacy backend."""
    if not reason.strip():
        raise KillSwitchError(KILLSWITCH_REASON_REQUIRED, "engaging needs a non-empty reason")
    return _switch(state_dir, engaged=True, actor=actor, reason=reason.strip(), clock=clock)


def release(state_dir: Path, *, actor: str, reason: str = "", clock: Clock = utc_now) -> Transition:
    """Release the kill switch (the environment or config may still engage it)."""
    return _switch(state_dir, engaged=False, actor=actor, reason=reason.strip(), clock=clock)


def _switch(state_dir: Path, *, engaged: bool, actor: str, reason: str, clock: Clock) -> Transition:
    if not actor.strip():
        raise KillSwitchError(KILLSWITCH_ACTOR_REQUIRED, "the actor is empty")
    with locked(state_dir):
        before = read_state(state_dir)
        at = iso_utc(clock())
        state = KillSwitchState(
            engaged=engaged,
            actor=actor.strip(),
            reason=reason,
            at=at,
            previous=before.state.snapshot() if before.state is not None else None,
        )
        entry = AuditEntry(
            op="engage" if engaged else "release",
            actor=state.actor,
            reason=reason,
            at=at,
            previous_state=before.label,
            new_state="engaged" if engaged else "released",
            pid=os.getpid(),
            host=socket.gethostname(),
        )
        # Audit first: a crash between the two writes leaves an audited intent, never an
        # unaudited change of state.
        append_entry(audit_path(state_dir), entry)
        write_state(state_dir, state)
    return Transition(before=before, state=state, entry=entry)
