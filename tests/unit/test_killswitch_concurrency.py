"""Two processes engaging and releasing at once leave a valid state and a complete audit log."""

from __future__ import annotations

import multiprocessing
from multiprocessing.synchronize import Barrier
from pathlib import Path

from harness.killswitch import engage, read_audit, read_state, release, replay
from harness.killswitch.audit import audit_path

OPERATIONS = 50


def _hammer(state_dir: str, name: str, barrier: Barrier) -> None:
    """Alternate engage/release OPERATIONS times (module level: spawn must import it)."""
    folder = Path(state_dir)
    barrier.wait(timeout=60)
    for index in range(OPERATIONS):
        if index % 2 == 0:
            engage(folder, actor=name, reason=f"{name}-{index}")
        else:
            release(folder, actor=name, reason=f"{name}-{index}")


def test_concurrent_writers_serialize_on_the_lock(tmp_path: Path) -> None:
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(2)
    workers = [
        context.Process(target=_hammer, args=(str(tmp_path), name, barrier))
        for name in ("p1", "p2")
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    assert [w.exitcode for w in workers] == [0, 0]

    log = read_audit(audit_path(tmp_path))
    assert (len(log.entries), log.bad_lines) == (2 * OPERATIONS, 0)
    for name in ("p1", "p2"):
        reasons = [e.reason for e in log.entries if e.actor == name]
        assert reasons == [f"{name}-{i}" for i in range(OPERATIONS)]
    # Each entry's previous state is the state the entry before it left: no lost update.
    result = replay(log.entries)
    assert result.breaks == ()
    state = read_state(tmp_path)
    assert state.problem is None
    assert result.final_state == state.label
    last = log.entries[-1]
    assert state.state is not None
    assert (state.state.actor, state.state.reason, state.state.at) == (
        last.actor,
        last.reason,
        last.at,
    )
