"""Run the candidate side in a child process, and keep it contained.

The candidate never shares the caller's process: a hang or a stop (SIGSTOP) is cut by the time
limit (SIGKILL ends a stopped process too), a crash of native code kills only the child, and
what it sends back is bytes decoded by msgspec into one typed message. Nothing from the child
is ever unpickled: a pickle is code, and the result channel is as untrusted as the candidate.
Whatever arrives, or does not, becomes a :class:`ChildOutcome`; this module never raises for
the candidate's behaviour.

Containment (:func:`run_candidate`): while the candidate runs, the primary's run directory and
the shared evidence are made read-only, and their state is recorded before and compared after;
a candidate's run is judged only on tables inside its own run directory.
"""

from __future__ import annotations

import os
import select
import signal
import stat
import struct
import time
import traceback
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, replace
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Annotated, Any, Final, Literal

import msgspec

from backends.extract import isolation, lifeline
from harness.run.manifest import (
    RunManifest,
    Section,
    TableEntry,
    locate,
    read_manifest,
    write_manifest,
)
from harness.run.request import check_candidate_timeout
from harness.shadow.observation import HarnessFault
from harness.shadow.side import SidePlan

MAX_MESSAGE_BYTES: Final = 64 * 1024 * 1024
"""A manifest is a few hundred kilobytes; more than this on the channel is junk."""
EXIT_GRACE_S: Final = 5.0
"""How long a child that has answered (or closed the channel) gets to exit before SIGKILL."""

CANDIDATE_WROTE_PRIMARY: Final = "CANDIDATE_WROTE_PRIMARY"
CANDIDATE_FOREIGN_TABLE: Final = "CANDIDATE_FOREIGN_TABLE"


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


def _failure(
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
        from harness.run.errors import EngineFailure
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
        return _failure("GARBAGE", f"undecodable result ({type(exc).__name__}: {exc})"[:2000])
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
        return _failure("INVALID_TIMEOUT", f"candidate time limit {exc}")
    try:
        return _run(plan, limit)
    except Exception as exc:  # the machinery (fork server, pipe) failed: recorded, not raised
        return _failure("CANDIDATE_HARNESS_FAILED", f"{type(exc).__name__}: {exc}")


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
        return _failure("TIMEOUT", f"no result after {timeout_s:g}s{how}", timed_out=True)
    if received.ended == "eof":
        if received.body:
            return _failure("GARBAGE", f"junk on the result channel: {received.body.decode()}")
        return _failure("CRASHED", f"the candidate process died: {_death(proc.exitcode)}")
    return _decode(received.body)


# --- containment -----------------------------------------------------------------------------

_State = dict[str, tuple[int, int, int]]


def _walk(root: Path) -> Iterator[Path]:
    """``root`` and everything below it, symbolic links listed but never followed."""
    if not os.path.lexists(root):
        return
    yield root
    if root.is_symlink() or not root.is_dir():
        return
    for folder, dirs, files in os.walk(root, followlinks=False, onerror=lambda _: None):
        for name in (*dirs, *files):
            yield Path(folder) / name


def tree_state(folders: Iterable[Path]) -> _State:
    """Kind, size and modification time of every entry below ``folders``, by path."""
    found: _State = {}
    for folder in folders:
        for path in _walk(folder):
            try:
                st = path.lstat()
            except OSError:
                continue
            found[str(path)] = (stat.S_IFMT(st.st_mode), st.st_size, st.st_mtime_ns)
    return found


def _changes(before: _State, after: _State) -> list[str]:
    changed = [f"{p} (new)" for p in sorted(after.keys() - before.keys())]
    changed += [f"{p} (removed)" for p in sorted(before.keys() - after.keys())]
    changed += [f"{p} (modified)" for p in sorted(before) if p in after and before[p] != after[p]]
    return changed


@contextmanager
def read_only(folders: Iterable[Path]) -> Iterator[None]:
    """Remove every write bit below ``folders`` for the duration; restore the modes after.

    This stops an unprivileged candidate. As root (CAP_DAC_OVERRIDE) permission bits stop
    nothing: the state compared before and after the candidate's run is what proves that it
    did not write; this only makes the honest mistake fail early.
    """
    saved: list[tuple[Path, int]] = []
    try:
        for folder in folders:
            for path in _walk(folder):
                try:
                    mode = path.lstat().st_mode
                    if stat.S_ISLNK(mode):
                        continue
                    path.chmod(stat.S_IMODE(mode) & ~0o222)
                    saved.append((path, stat.S_IMODE(mode)))
                except OSError:
                    continue  # best effort; the state check after the run still applies
        yield
    finally:
        for path, mode in reversed(saved):
            with suppress(OSError):
                path.chmod(mode)


def _fault(code: str, problems: list[str]) -> HarnessFault:
    shown = "; ".join(problems[:5]) + (
        f"; ... {len(problems) - 5} more" if len(problems) > 5 else ""
    )
    return HarnessFault(where="containment", code=code, error=f"{code}: {shown}")


def _inside(path: Path, roots: Iterable[Path]) -> bool:
    return any(path == root or path.is_relative_to(root) for root in roots)


def _tables(manifest: RunManifest) -> Iterator[tuple[Section, TableEntry]]:
    for entry in manifest.inputs:
        yield "inputs", entry
    for entry in manifest.outputs:
        yield "outputs", entry


def foreign_tables(plan: SidePlan, sent: RunManifest) -> list[str]:
    """Tables the candidate's run would be judged on that are not its own.

    Outputs must lie inside the candidate's run directory; inputs there or in the shared
    evidence (semantics mode). Checked for the manifest it sent and for the ``run.json`` that
    the comparison reads, and no symbolic link below its run directory may lead out of it:
    otherwise the primary could be compared with itself and pass.
    """
    run_dir = Path(plan.run_dir).absolute()
    own = run_dir.parent.resolve() / run_dir.name
    if run_dir.is_symlink():
        return [f"{run_dir} is a symbolic link to {run_dir.resolve()}"]
    evidence = [Path(plan.evidence_dir).resolve()] if plan.evidence_dir else []
    problems: list[str] = []
    try:
        on_disk = read_manifest(run_dir / "run.json")
    except Exception as exc:  # a candidate-written file: anything may be wrong with it
        return [f"{run_dir / 'run.json'} unreadable: {type(exc).__name__}: {exc}"]
    if on_disk != sent:
        problems.append("run.json differs from the manifest the candidate reported")
    for manifest in (sent, on_disk):
        for section, entry in _tables(manifest):
            allowed = [own, *evidence] if section == "inputs" else [own]
            where = locate(run_dir, section, entry).resolve()
            if not _inside(where, allowed):
                problems.append(f"{section} {entry.table} at {where}")
    for path in _walk(own):
        if path.is_symlink() and not _inside(path.resolve(), [own]):
            problems.append(f"link {path} -> {path.resolve()}")
    return sorted(set(problems))


def primary_tampering(run_dir: Path, manifest: RunManifest) -> list[HarnessFault]:
    """After both sides ran: the primary's tables still end at the Delta versions its
    manifest pins, and its ``run.json`` is still the manifest it returned (restored if not:
    it is the primary's result, which the candidate does not get to change)."""
    try:
        problems = _tampering(run_dir, manifest)
    except Exception as exc:  # the check itself failed: recorded, never raised
        return [HarnessFault(where="containment", error=f"{type(exc).__name__}: {exc}")]
    return [_fault(CANDIDATE_WROTE_PRIMARY, problems)] if problems else []


def _tampering(run_dir: Path, manifest: RunManifest) -> list[str]:
    from harness.compare.tables import latest_version

    problems: list[str] = []
    for section, entry in _tables(manifest):
        latest = latest_version(locate(run_dir, section, entry))
        if latest != entry.delta_version:
            problems.append(
                f"{section} {entry.table} at version {latest}, run.json pins {entry.delta_version}"
            )
    path = run_dir / "run.json"
    try:
        intact = read_manifest(path) == manifest
    except Exception:  # unreadable or gone: rewritten below either way
        intact = False
    if not intact:
        problems.append(f"{path} was changed (restored)")
        write_manifest(path, manifest)
    return problems


def guarded_folders(primary: SidePlan) -> list[Path]:
    """What the candidate must not write: the primary's run directory and shared evidence."""
    folders = [Path(primary.run_dir)]
    if primary.evidence_dir is not None:
        folders.append(Path(primary.evidence_dir))
    return folders


def run_candidate(
    plan: SidePlan, primary: SidePlan, timeout_s: float
) -> tuple[ChildOutcome, list[HarnessFault]]:
    """Run the candidate contained: the primary's folders read-only while it runs and
    unchanged after it ran, its tables its own. A breach is a recorded fault and a failed
    candidate (its run is not compared); the primary's result is untouched."""
    guarded = guarded_folders(primary)
    faults: list[HarnessFault] = []
    child: ChildOutcome | None = None
    try:
        # Made now even when the primary runs second, so that it is guarded in either order.
        guarded[0].mkdir(parents=True, exist_ok=True)
        before = tree_state(guarded)
        with read_only(guarded):
            child = run_in_child(plan, timeout_s)
        changed = _changes(before, tree_state(guarded))
        if changed:
            faults.append(_fault(CANDIDATE_WROTE_PRIMARY, changed))
        if child.manifest is not None:
            foreign = foreign_tables(plan, child.manifest)
            if foreign:
                faults.append(_fault(CANDIDATE_FOREIGN_TABLE, foreign))
    except Exception as exc:  # the guard itself failed: recorded, and the candidate not trusted
        faults.append(HarnessFault(where="containment", error=f"{type(exc).__name__}: {exc}"))
        if child is None:
            child = _failure("CANDIDATE_HARNESS_FAILED", f"{type(exc).__name__}: {exc}")
    if faults and child.manifest is not None:
        code = faults[0].code or "CANDIDATE_HARNESS_FAILED"
        child = replace(child, manifest=None, error={"code": code, "message": faults[0].error})
    return child, faults
