"""harness.bucket_lock: one writer per object-store output across machines, against the real S3
server (tests/s3_server.py): holders refused and served in turn, an expired holder taken over,
processes racing for one URI, and the vacuous cases (no lock table yet)."""

from __future__ import annotations

import datetime as dt
import itertools
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from harness.bucket_lock import (
    ACQUIRE,
    LOCK_TABLE,
    OUT_BUSY,
    Holder,
    _append,
    acquire,
    hold,
    holders,
    lock_uri,
    release,
)
from harness.errors import UsageError
from harness.staging import remote_of, staged_out
from harness.storage import list_files, pull, push
from tests.s3_server import S3Server

ROOT = Path(__file__).parents[2]


def test_no_lock_table_means_no_holder_and_acquiring_creates_it(s3_server: S3Server) -> None:
    options = s3_server.storage_options()
    uri = s3_server.uri(s3_server.new_prefix("lock-vacuous") + "/run")
    assert holders(uri, options) == []
    assert list_files(uri, options) == {}  # reading the lock of a URI writes nothing
    lock = acquire(uri, options, "codeanatomy build repo")
    assert lock.version == 0  # the first request created the table
    assert [h.owner for h in holders(uri, options)] == [lock.holder.owner]
    assert release(lock, options) is True
    assert holders(uri, options) == []


def test_releasing_a_lock_not_held_is_a_no_op_that_writes_nothing(s3_server: S3Server) -> None:
    options = s3_server.storage_options()
    prefix = s3_server.new_prefix("lock-release")
    taken = acquire(s3_server.uri(prefix + "/a"), options, "a")
    assert release(taken, options) is True
    before = set(list_files(lock_uri(taken.uri), options))
    assert release(taken, options) is False  # released already
    assert set(list_files(lock_uri(taken.uri), options)) == before
    # A lock whose URI has no lock table at all (never taken there): nothing is created.
    elsewhere = type(taken)(uri=s3_server.uri(prefix + "/b"), holder=taken.holder, version=0)
    assert release(elsewhere, options) is False
    assert list_files(elsewhere.uri, options) == {}


def test_a_second_holder_is_refused_naming_the_first_then_served(s3_server: S3Server) -> None:
    options = s3_server.storage_options()
    uri = s3_server.uri(s3_server.new_prefix("lock-two") + "/run")
    first = acquire(uri, options, "codeanatomy build repo --out " + uri)
    with pytest.raises(UsageError) as info:
        acquire(uri, options, "second")
    assert info.value.code == OUT_BUSY
    message = info.value.message
    assert uri in message
    assert f"pid {os.getpid()}" in message
    assert first.holder.host in message
    assert "codeanatomy build repo --out" in message
    assert first.holder.at.isoformat(timespec="seconds") in message
    # The refused request released itself: only the first is in force.
    assert [h.owner for h in holders(uri, options)] == [first.holder.owner]
    release(first, options)
    with hold(uri, options, "second") as second:
        assert [h.owner for h in holders(uri, options)] == [second.holder.owner]
    assert holders(uri, options) == []


def test_an_expired_holder_is_taken_over(s3_server: S3Server) -> None:
    options = s3_server.storage_options()
    uri = s3_server.uri(s3_server.new_prefix("lock-expired") + "/run")
    crashed = acquire(uri, options, "crashed", lease_s=1.0)  # never released
    with pytest.raises(UsageError):
        acquire(uri, options, "too early")
    time.sleep(1.5)
    assert holders(uri, options) == []
    later = acquire(uri, options, "later")
    assert later.version > crashed.version
    assert release(crashed, options) is False  # its lease is over: nothing to release
    assert release(later, options) is True


def test_the_block_releases_on_failure(s3_server: S3Server) -> None:
    options = s3_server.storage_options()
    uri = s3_server.uri(s3_server.new_prefix("lock-fail") + "/run")
    with pytest.raises(RuntimeError, match="boom"), hold(uri, options, "failing"):
        raise RuntimeError("boom")
    assert holders(uri, options) == []


# Ends by os._exit like the CLI (harness/cli.py: delta-rs and Arrow thread pools can abort the
# interpreter's shutdown, delta-rs #2184).
RACER = """
import os, sys, time
from harness.bucket_lock import acquire, release
from harness.errors import UsageError
from harness.storage import effective_options
uri, start, hold_s = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
options = effective_options()
while time.time() < start:
    time.sleep(0.001)
try:
    lock = acquire(uri, options, "racer")
except UsageError as exc:
    print("BUSY", exc.code, flush=True)
else:
    print("HELD", lock.version, flush=True)
    time.sleep(hold_s)  # every other racer decides while this one holds
    release(lock, options)
sys.stdout.flush()
os._exit(0)
"""


def test_processes_racing_for_one_uri_give_exactly_one_holder(
    s3_server: S3Server, tmp_path: Path
) -> None:
    uri = s3_server.uri(s3_server.new_prefix("lock-race") + "/run")
    script = tmp_path / "racer.py"
    script.write_text(RACER, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(s3_server.env(), PYTHONPATH=str(ROOT))
    start = time.time() + 3.0  # all four have imported deltalake by then
    racers = [
        subprocess.Popen(
            [sys.executable, str(script), uri, str(start), "6"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            cwd=tmp_path,
        )
        for _ in range(4)
    ]
    answers = []
    for racer in racers:
        out, err = racer.communicate(timeout=120)
        assert racer.returncode == 0, err
        answers.append(out.split()[0])
    assert sorted(answers) == ["BUSY", "BUSY", "BUSY", "HELD"], answers
    assert holders(uri, s3_server.storage_options()) == []


def test_staging_holds_the_uri_and_never_moves_the_lock_table(
    s3_server: S3Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CODEANATOMY_CACHE", str(tmp_path / "cache"))
    options = s3_server.storage_options()
    uri = s3_server.uri(s3_server.new_prefix("lock-staged") + "/suite")
    with staged_out(uri, options, command="codeanatomy shadow repo") as local:
        (local / "run.json").write_text("{}", encoding="utf-8")
        # Another machine asking for the URI is refused, naming this command.
        with pytest.raises(UsageError) as info:
            acquire(uri, options, "elsewhere")
        assert info.value.code == OUT_BUSY
        assert "codeanatomy shadow repo" in info.value.message
        # This process stages the URI again (a suite of one repository: its task's run is OUT).
        with staged_out(uri, options):
            pass
        # A task of another process working for this holder: no lock of its own.
        with staged_out(f"{uri}/repo", options, lock=False) as task:
            (task / "run.json").write_text("{}", encoding="utf-8")
            assert holders(f"{uri}/repo", options) == []
        # A lock table below OUT (a task that took its own run's lock).
        release(acquire(f"{uri}/repo", options, "task"), options)
    keys = set(list_files(uri, options))
    assert {"run.json", "repo/run.json"} <= keys
    assert any(k.startswith(f"{LOCK_TABLE}/_delta_log/") for k in keys)
    assert any(k.startswith(f"repo/{LOCK_TABLE}/") for k in keys)
    # Neither staging nor reading a run brings the lock tables along, at any depth.
    assert not list(local.rglob(LOCK_TABLE))
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    pull(uri, fresh, options)
    assert (fresh / "repo" / "run.json").is_file()
    assert not list(fresh.rglob(LOCK_TABLE))
    # A lock table that found its way into a local folder is never published over the bucket's.
    (fresh / LOCK_TABLE / "_delta_log").mkdir(parents=True)
    (fresh / LOCK_TABLE / "_delta_log" / "00000000000000000099.json").write_text("{}")
    push(fresh, uri, options)
    assert f"{LOCK_TABLE}/_delta_log/00000000000000000099.json" not in list_files(uri, options)
    assert holders(uri, options) == []


# Each holder notes when it held the URI (this machine's clock: the racers share it).
TURNS = """
import os, sys, time
from harness.bucket_lock import acquire, release
from harness.errors import UsageError
from harness.storage import effective_options
uri, start, rounds = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
options = effective_options()
while time.time() < start:
    time.sleep(0.001)
held = 0
while held < rounds:
    try:
        lock = acquire(uri, options, "turns")
    except UsageError:
        time.sleep(0.01)
        continue
    began = time.time()
    time.sleep(0.05)
    print("HELD", began, time.time(), flush=True)
    release(lock, options)
    held += 1
sys.stdout.flush()
os._exit(0)
"""


def test_holders_taking_turns_never_overlap(s3_server: S3Server, tmp_path: Path) -> None:
    """Three processes each take the URI three times, retrying when refused: nine holds, no two
    of which overlap in time."""
    uri = s3_server.uri(s3_server.new_prefix("lock-turns") + "/run")
    script = tmp_path / "turns.py"
    script.write_text(TURNS, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(s3_server.env(), PYTHONPATH=str(ROOT))
    start = time.time() + 3.0
    procs = [
        subprocess.Popen(
            [sys.executable, str(script), uri, str(start), "3"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            cwd=tmp_path,
        )
        for _ in range(3)
    ]
    spans: list[tuple[float, float]] = []
    for proc in procs:
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
        spans += [(float(a), float(b)) for _, a, b in (line.split() for line in out.splitlines())]
    assert len(spans) == 9
    spans.sort()
    for (_, end), (began, _) in itertools.pairwise(spans):
        assert end <= began, spans


DIES = """
import os, sys
from harness.bucket_lock import acquire
from harness.storage import effective_options
lock = acquire(sys.argv[1], effective_options(), "killed")
print(lock.holder.owner, flush=True)
os._exit(9)  # dies holding the lock: no release
"""


def test_a_holder_that_died_on_this_machine_is_taken_over_at_once(
    s3_server: S3Server, tmp_path: Path
) -> None:
    uri = s3_server.uri(s3_server.new_prefix("lock-dead") + "/run")
    script = tmp_path / "dies.py"
    script.write_text(DIES, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(s3_server.env(), PYTHONPATH=str(ROOT))
    done = subprocess.run(
        [sys.executable, str(script), uri], capture_output=True, text=True, env=env, check=False
    )
    assert done.returncode == 9, done.stderr
    options = s3_server.storage_options()
    assert holders(uri, options) == []  # its request is still in the table, but its process died
    with hold(uri, options, "rerun") as lock:
        assert [h.owner for h in holders(uri, options)] == [lock.holder.owner]


def test_a_holder_on_another_machine_is_never_presumed_dead(s3_server: S3Server) -> None:
    """The vacuous side of the liveness check: a request made elsewhere (another boot or pid
    namespace), or one that does not say where (off Linux), blocks until its lease ends."""
    options = s3_server.storage_options()
    for n, process in enumerate(("0123456789abcdef:1:1", "")):
        uri = s3_server.uri(s3_server.new_prefix(f"lock-remote-{n}") + "/run")
        now = dt.datetime.now(dt.UTC)
        remote = Holder(
            owner=f"remote-{n}",
            host="elsewhere",
            pid=999_999,
            command="codeanatomy build",
            process=process,
            at=now,
            expires_at=now + dt.timedelta(hours=1),
        )
        _append(lock_uri(uri), remote, ACQUIRE, options)
        with pytest.raises(UsageError) as info:
            acquire(uri, options, "here")
        assert info.value.code == OUT_BUSY
        assert "host elsewhere, pid 999999, codeanatomy build" in info.value.message


def test_staging_a_uri_again_in_one_process_keeps_the_outer_block_holding_it(
    s3_server: S3Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CODEANATOMY_CACHE", str(tmp_path / "cache"))
    options = s3_server.storage_options()
    uri = s3_server.uri(s3_server.new_prefix("lock-again"))
    with staged_out(uri, options) as outer:
        with staged_out(uri, options) as inner:
            assert inner == outer
        assert remote_of(outer) == (uri, options)  # still the outer block's
        with staged_out(f"{uri}/repo", options):  # below a URI this process holds: no lock
            assert holders(f"{uri}/repo", options) == []
        assert len(holders(uri, options)) == 1
    assert remote_of(outer) is None
    assert holders(uri, options) == []
