"""Run one shadow side in a child process with a time limit.

The candidate never shares the caller's process: a hang is cut by the timeout (the child is
killed), a crash of native code kills only the child, and what it sends back is checked data.
"""

from __future__ import annotations

import time
import traceback
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

import msgspec

from backends.extract import isolation
from harness.run.manifest import RunManifest
from harness.shadow.side import SidePlan


@dataclass(frozen=True)
class ChildOutcome:
    """What came back from the child: its manifest, or an error description; CPU time."""

    manifest: RunManifest | None
    error: dict[str, Any] | None
    timed_out: bool
    cpu_s: float


def _child(conn: Connection, plan_json: bytes) -> None:
    started = time.process_time()
    try:
        from harness.run.errors import EngineFailure
        from harness.shadow.side import execute_side

        plan = msgspec.json.decode(plan_json, type=SidePlan)
        try:
            manifest = execute_side(plan)
            conn.send(("ok", msgspec.json.encode(manifest), time.process_time() - started))
        except EngineFailure as exc:
            conn.send(("error", exc.to_dict(), time.process_time() - started))
    except BaseException as exc:  # the child reports everything; the parent decides
        error = {
            "code": "INTERNAL_ERROR",
            "type": type(exc).__name__,
            "message": str(exc),
            "traceback": traceback.format_exc(limit=8),
        }
        conn.send(("error", error, time.process_time() - started))
    finally:
        conn.close()


def run_in_child(plan: SidePlan, timeout_s: float) -> ChildOutcome:
    """Run ``plan`` in a fresh process; never raises for the side's failures."""
    ctx = isolation.forkserver_context()  # never imports from the analysed repo
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(child, msgspec.json.encode(plan)), daemon=True)
    proc.start()
    child.close()
    try:
        if not parent.poll(timeout_s):
            proc.kill()
            proc.join(5)
            error = {"code": "TIMEOUT", "message": f"no result after {timeout_s}s"}
            return ChildOutcome(None, error, True, 0.0)
        try:
            status, payload, cpu = parent.recv()
        except EOFError:
            proc.join(5)
            message = f"the candidate process died (exit code {proc.exitcode})"
            return ChildOutcome(None, {"code": "CRASHED", "message": message}, False, 0.0)
    finally:
        parent.close()
    proc.join(5)
    if status != "ok":
        return ChildOutcome(None, payload, False, cpu)
    try:
        return ChildOutcome(msgspec.json.decode(payload, type=RunManifest), None, False, cpu)
    except msgspec.ValidationError as exc:
        return ChildOutcome(None, {"code": "GARBAGE", "message": str(exc)}, False, cpu)
