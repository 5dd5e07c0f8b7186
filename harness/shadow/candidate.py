"""Run the candidate side in a child process, and keep it contained.

The candidate never shares the caller's process: a hang or a stop (SIGSTOP) is cut by the time
limit (SIGKILL ends a stopped process too), a crash of native code kills only the child, and
what it sends back is bytes decoded by msgspec into one typed message. Nothing from the child
is ever unpickled: a pickle is code, and the result channel is as untrusted as the candidate.
Whatever arrives, or does not, becomes a :class:`ChildOutcome`; this module never raises for
the candidate's behaviour.

Containment (what it may write, which tables it is judged on) is ``harness/shadow/containment``.
"""

from __future__ import annotations

import os
import select
import signal
import struct
import time
import traceback
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Annotated, Any, Final, Literal

import msgspec

from backends.extract import isolation, lifeline
from harness.run.manifest import (
    RunManifest,
)
from harness.run.request import check_candidate_timeout
from harness.shadow.side import SidePlan

MAX_MESSAGE_BYTES: Final = 64 * 1024 * 1024
"""A manifest is a few hundred kilobytes; more than this on the channel is junk."""
EXIT_GRACE_S: Final = 5.0
"""How long a child that has answered (or closed the channel) gets to exit before SIGKILL."""


class ChildError(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """A failure the child reports (an EngineFailure's ``to_dict`` or an internal error)."""

    code: Annotated[str, msgspec.Meta(pattern=r"^[A-Z][A-Z0-9_]*$", max_length=64)]
    message: str = ""
    backend: str | None = None
    stage: str | None = None
    type: str | None = None
    traceback: str | None = None
    context: dict[str, Any] = {}


CpuSeconds = Annotated[float, msgspec.Meta(ge=0, le=1e9)]


class Finished(msgspec.Struct, frozen=True, kw_only=True, tag="ok"):
    """The side ran: its manifest (also written to its ``run.json``) and its CPU time."""

    manifest: RunManifest
    cpu_s: CpuSeconds


class Failed(msgspec.Struct, frozen=True, kw_only=True, tag="error"):
    """The side failed: why, and its CPU time."""

    error: ChildError
    cpu_s: CpuSeconds


ChildMessage = Finished | Failed


@dataclass(frozen=True)
class ChildOutcome:
    """What came back from the child: its manifest, or an error description; CPU time."""

    manifest: RunManifest | None
    error: dict[str, Any] | None
    timed_out: bool
    cpu_s: float


def failure(
    code: str, message: str, *, timed_out: bool = False, cpu_s: float = 0.0
) -> ChildOutcome:
    return ChildOutcome(None, {"code": code, "message": message}, timed_out, cpu_s)


# --- the child -------------------------------------------------------------------------------


def _encode(message: ChildMessage) -> bytes:
    try:
        # An engine's error context may hold paths or other objects: their text is enough.
        return msgspec.json.encode(message, enc_hook=str)
    except Exception as exc:  # the report must get out whatever it holds
        error = ChildError(code="INTERNAL_ERROR", message=f"unencodable result: {exc!r}")
        return msgspec.json.encode(Failed(error=error, cpu_s=message.cpu_s))


def _child(conn: Connection, plan_json: bytes, run_pid: int) -> None:
    lifeline.die_with(run_pid)  # a killed run takes its candidate along
    started = time.process_time()
    message: ChildMessage
    try:
        from harness.errors import EngineFailure
        from harness.shadow.side import execute_side

        plan = msgspec.json.decode(plan_json, type=SidePlan)
        try:
            manifest = execute_side(plan)
            message = Finished(manifest=manifest, cpu_s=time.process_time() - started)
        except EngineFailure as exc:
            error = msgspec.convert(exc.to_dict(), ChildError)
            message = Failed(error=error, cpu_s=time.process_time() - started)
    except BaseException as exc:  # the child reports everything; the parent decides
        error = ChildError(
            code="INTERNAL_ERROR",
            type=type(exc).__name__,
            message=str(exc),
            traceback=traceback.format_exc(limit=8),
        )
        message = Failed(error=error, cpu_s=time.process_time() - started)
    try:
        conn.send_bytes(_encode(message))
    finally:
        conn.close()


# --- the parent ------------------------------------------------------------------------------


class _BadFrame(Exception):
    """The bytes on the channel do not start a message of an acceptable size."""


@dataclass(frozen=True)
class _Received:
    ended: Literal["frame", "eof", "timeout"]
    body: bytes = b""


def _frame_bounds(buf: bytearray) -> tuple[int, int] | None:
    """(start, length) of the body once the header of ``Connection.send_bytes`` is complete."""
    if len(buf) < 4:
        return None
    (length,) = struct.unpack("!i", buf[:4])
    if length == -1:  # a body over 2 GiB: an 8-byte length follows
        if len(buf) < 12:
            return None
        (length,) = struct.unpack("!Q", buf[4:12])
        start = 12
    elif length < 0:
        raise _BadFrame(f"negative message length {length}")
    else:
        start = 4
    if length > MAX_MESSAGE_BYTES:
        raise _BadFrame(f"message of {length} bytes (at most {MAX_MESSAGE_BYTES})")
    return start, length


def _read_frame(fd: int, sentinel: int, deadline: float) -> _Received:
    """Read one framed message from ``fd`` without ever blocking past ``deadline``.

    ``Connection.recv_bytes`` would block on a header that promises bytes never sent; here
    every read waits in ``select`` for at most the time left. When the child has exited, a
    descendant may still hold the channel open: what it holds back counts as never sent.
    """
    buf = bytearray()
    exited_at: float | None = None
    while True:
        bounds = _frame_bounds(buf)
        if bounds is not None and len(buf) >= bounds[0] + bounds[1]:
            return _Received("frame", bytes(buf[bounds[0] : bounds[0] + bounds[1]]))
        now = time.monotonic()
        if now >= deadline:
            return _Received("timeout")
        if exited_at is not None and now - exited_at > EXIT_GRACE_S:
            return _Received("eof")
        watched = [fd] if exited_at is not None else [fd, sentinel]
        ready, _, _ = select.select(watched, [], [], min(deadline - now, EXIT_GRACE_S))
        if sentinel in ready:
            exited_at = time.monotonic()
        if fd in ready:
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                return _Received("eof")
            buf += chunk


def _process_state(pid: int | None) -> str | None:
    """The kernel's one-letter state of ``pid`` (``T``: stopped), where /proc shows it."""
    if pid is None:
        return None
    try:
        text = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
    except OSError:
        return None
    return text.rpartition(")")[2].split()[0] if ")" in text else None


def _death(exitcode: int | None) -> str:
    if exitcode is None:
        return "it closed the result channel without a result"
    if exitcode < 0:
        try:
            name = signal.Signals(-exitcode).name
        except ValueError:
            name = f"signal {-exitcode}"
        return f"it was killed by {name}"
    return f"it exited with code {exitcode} before sending a result"


def _decode(body: bytes) -> ChildOutcome:
    try:
        message = msgspec.json.decode(body, type=ChildMessage)
    except Exception as exc:  # junk of any shape is the candidate's failure, never ours
        return failure("GARBAGE", f"undecodable result ({type(exc).__name__}: {exc})"[:2000])
    if isinstance(message, Failed):
        error = msgspec.to_builtins(message.error)
        return ChildOutcome(None, error, False, message.cpu_s)
    return ChildOutcome(message.manifest, None, False, message.cpu_s)


def run_in_child(plan: SidePlan, timeout_s: float) -> ChildOutcome:
    """Run ``plan`` in a fresh process; never raises for the side's failures.

    A ``timeout_s`` that :func:`check_candidate_timeout` refuses runs nothing: the side fails with
    ``INVALID_TIMEOUT`` (the CLIs refuse such a value before any work).
    """
    try:
        limit = check_candidate_timeout(timeout_s)
    except (TypeError, ValueError) as exc:
        return failure("INVALID_TIMEOUT", f"candidate time limit {exc}")
    try:
        return _run(plan, limit)
    except Exception as exc:  # the machinery (fork server, pipe) failed: recorded, not raised
        return failure("CANDIDATE_HARNESS_FAILED", f"{type(exc).__name__}: {exc}")


def _run(plan: SidePlan, timeout_s: float) -> ChildOutcome:
    ctx = isolation.forkserver_context()  # never imports from the analysed repo
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(
        target=_child, args=(child, msgspec.json.encode(plan), os.getpid()), daemon=True
    )
    received = _Received("timeout")
    state: str | None = None
    try:
        proc.start()
        child.close()
        deadline = time.monotonic() + timeout_s
        try:
            received = _read_frame(parent.fileno(), proc.sentinel, deadline)
        except _BadFrame as exc:
            received = _Received("eof", body=str(exc).encode())
            proc.kill()
        if received.ended == "timeout":
            state = _process_state(proc.pid)
    finally:
        parent.close()
        child.close()
        if proc.pid is not None:
            # A stopped or hung child, or one that answered and then hung: SIGKILL ends all.
            proc.join(0 if received.ended == "timeout" else EXIT_GRACE_S)
            if proc.exitcode is None:
                proc.kill()
                proc.join(EXIT_GRACE_S)
    if received.ended == "timeout":
        how = " (the process was stopped)" if state == "T" else ""
        return failure("TIMEOUT", f"no result after {timeout_s:g}s{how}", timed_out=True)
    if received.ended == "eof":
        if received.body:
            return failure("GARBAGE", f"junk on the result channel: {received.body.decode()}")
        return failure("CRASHED", f"the candidate process died: {_death(proc.exitcode)}")
    return _decode(received.body)
