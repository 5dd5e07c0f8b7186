"""Engage / release: the state file, the audit log, and what each records."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from harness.killswitch import KillSwitchError, engage, read_audit, read_state, release, replay
from harness.killswitch.audit import audit_path
from harness.killswitch.state import (
    KILLSWITCH_ACTOR_REQUIRED,
    KILLSWITCH_REASON_REQUIRED,
    state_path,
)


class FakeClock:
    """Each call is one second after the previous one, from a fixed start."""

    def __init__(self) -> None:
        self._ticks: Iterator[int] = iter(range(10_000))

    def __call__(self) -> datetime:
        return datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC) + timedelta(seconds=next(self._ticks))


def test_engage_writes_the_state_with_actor_reason_and_utc_time(tmp_path: Path) -> None:
    engage(tmp_path, actor="alice", reason="parity broke", clock=FakeClock())
    on_disk = json.loads(state_path(tmp_path).read_text(encoding="utf-8"))
    assert on_disk == {
        "engaged": True,
        "actor": "alice",
        "reason": "parity broke",
        "at": "2030-01-02T03:04:05.000000Z",
        "previous": None,
        "version": 1,
    }


def test_release_records_the_engaged_state_as_previous(tmp_path: Path) -> None:
    clock = FakeClock()
    engage(tmp_path, actor="alice", reason="parity broke", clock=clock)
    transition = release(tmp_path, actor="bob", reason="fixed", clock=clock)
    state = read_state(tmp_path).state
    assert state is not None
    assert (state.engaged, state.actor, state.at) == (False, "bob", "2030-01-02T03:04:06.000000Z")
    assert state.previous is not None
    assert (state.previous.engaged, state.previous.actor) == (True, "alice")
    assert transition.before.label == "engaged"


def test_the_audit_log_records_both_operations_with_previous_states(tmp_path: Path) -> None:
    clock = FakeClock()
    engage(tmp_path, actor="alice", reason="parity broke", clock=clock)
    release(tmp_path, actor="bob", clock=clock)
    entries = read_audit(audit_path(tmp_path)).entries
    assert [(e.op, e.actor, e.previous_state, e.new_state) for e in entries] == [
        ("engage", "alice", "absent", "engaged"),
        ("release", "bob", "engaged", "released"),
    ]
    assert [e.at for e in entries] == ["2030-01-02T03:04:05.000000Z", "2030-01-02T03:04:06.000000Z"]
    assert all(e.pid > 0 and e.host for e in entries)


def test_the_audit_log_is_append_only_one_json_line_per_operation(tmp_path: Path) -> None:
    clock = FakeClock()
    engage(tmp_path, actor="a", reason="r1", clock=clock)
    first = audit_path(tmp_path).read_bytes()
    engage(tmp_path, actor="a", reason="r2", clock=clock)
    second = audit_path(tmp_path).read_bytes()
    assert second.startswith(first)
    assert [json.loads(line)["reason"] for line in second.splitlines()] == ["r1", "r2"]


@pytest.mark.parametrize("reason", ["", "   ", "\n"])
def test_engage_requires_a_reason(tmp_path: Path, reason: str) -> None:
    with pytest.raises(KillSwitchError) as caught:
        engage(tmp_path, actor="a", reason=reason)
    assert caught.value.code == KILLSWITCH_REASON_REQUIRED
    assert not state_path(tmp_path).exists()
    assert not audit_path(tmp_path).exists()


def test_an_empty_actor_is_refused(tmp_path: Path) -> None:
    with pytest.raises(KillSwitchError) as caught:
        release(tmp_path, actor=" ")
    assert caught.value.code == KILLSWITCH_ACTOR_REQUIRED


def test_release_without_a_reason_is_allowed(tmp_path: Path) -> None:
    release(tmp_path, actor="a")
    assert read_audit(audit_path(tmp_path)).entries[0].reason == ""


def test_a_corrupt_state_file_is_reported_not_raised(tmp_path: Path) -> None:
    state_path(tmp_path).write_text("not json", encoding="utf-8")
    read = read_state(tmp_path)
    assert (read.state, read.label) == (None, "corrupt")
    assert read.problem is not None and "corrupt" in read.problem


def test_a_state_file_with_unknown_fields_counts_as_corrupt(tmp_path: Path) -> None:
    state_path(tmp_path).write_text(
        '{"engaged": false, "actor": "a", "reason": "", "at": "x", "surprise": 1}',
        encoding="utf-8",
    )
    assert read_state(tmp_path).label == "corrupt"


def test_release_repairs_a_corrupt_state_file_and_audits_it(tmp_path: Path) -> None:
    state_path(tmp_path).write_text("{", encoding="utf-8")
    release(tmp_path, actor="ops", reason="repair")
    assert read_state(tmp_path).label == "released"
    (entry,) = read_audit(audit_path(tmp_path)).entries
    assert (entry.previous_state, entry.new_state) == ("corrupt", "released")


def test_replay_of_the_log_gives_the_state_file(tmp_path: Path) -> None:
    clock = FakeClock()
    for _ in range(3):
        engage(tmp_path, actor="a", reason="r", clock=clock)
        release(tmp_path, actor="a", clock=clock)
    engage(tmp_path, actor="a", reason="last", clock=clock)
    result = replay(read_audit(audit_path(tmp_path)).entries)
    assert (result.final_state, result.breaks) == ("engaged", ())
    assert read_state(tmp_path).label == "engaged"


def test_undecodable_audit_lines_are_counted_and_skipped(tmp_path: Path) -> None:
    engage(tmp_path, actor="a", reason="r", clock=FakeClock())
    with audit_path(tmp_path).open("a", encoding="utf-8") as handle:
        handle.write("garbage\n")
    log = read_audit(audit_path(tmp_path))
    assert (len(log.entries), log.bad_lines) == (1, 1)


def test_read_audit_last_returns_the_newest_entries(tmp_path: Path) -> None:
    clock = FakeClock()
    for reason in ("1", "2", "3"):
        engage(tmp_path, actor="a", reason=reason, clock=clock)
    assert [e.reason for e in read_audit(audit_path(tmp_path), last=2).entries] == ["2", "3"]


def test_no_temporary_files_are_left_behind(tmp_path: Path) -> None:
    engage(tmp_path, actor="a", reason="r")
    release(tmp_path, actor="a")
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["killswitch.audit.jsonl", "killswitch.json", "killswitch.lock"]
