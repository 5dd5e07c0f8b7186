"""One writer per object-store output across machines (issue 16): a ticket lock in the bucket.

A local ``--out`` folder is held by an ``fcntl.flock`` (harness/run/lock.py). An ``s3://`` output
is staged in a local folder per URI on each machine (harness/storage.py), so two drivers on two
machines publishing the same URI would not see each other's flock. :func:`hold` takes a lock in
the bucket itself, at ``<OUT>/_codeanatomy_lock``:

- The lock is an append-only Delta table written with delta-rs. The store's conditional put
  (``conditional_put = "etag"``, harness.storage.effective_options) gives every commit its own
  version, so the versions totally order the requests: a ticket lock, no deletes needed.
- **Acquire**: append one row ``(owner, host, pid, command, at, expires_at, action="acquire")``
  (``owner`` a fresh uuid, also put in the commit's metadata), find the version ``v`` the commit
  got (the table's history, newest first, by owner), then read the rows of versions ``<= v``.
  If another owner has an ``acquire`` there with no ``release`` and a lease not yet expired, we
  lost: we append our own ``release`` and refuse with ``OUT_BUSY`` (exit 2, like the local
  lock), naming that holder (host, pid, command, since). Else we hold the URI.
- **Release**: append ``action="release"`` for our owner (also when the command failed; on an
  interrupt the ``finally`` of :func:`hold` still runs, best effort; a ``SIGKILL`` or a lost
  machine leaves the lock to expire).
- **Lease**: ``expires_at = at +`` :data:`LEASE_S` (6 h). An expired ``acquire`` is ignored, so a
  driver that crashed blocks its URI for at most the lease. A request made on the same machine
  (same boot, same pid namespace) whose process is gone (killed, crashed: no process with its
  pid and start time) is ignored at once: a rerun after a ``kill -9`` on one machine, or a Ray
  task retried on the node where its first attempt died, is not refused.
- **Cost**: each request is one commit of a one-row file, and the log keeps each file's
  statistics, so the rows are read from the log alone (no data file is opened); a checkpoint
  every :data:`CHECKPOINT_INTERVAL` requests bounds the log entries replayed. Measured on
  loopback (SeaweedFS, 2 cores): acquire + release 0.1-0.35 s, flat over 300 requests.

Known limits (documented, not enforced):

- A holder that runs longer than the lease is no longer protected: once its lease has expired
  a second writer gets the URI and both may publish. The lease is not renewed; 6 h is far
  above a build's or a suite's time, and a longer job needs a larger ``lease_s``.
- Expiry compares wall clocks of different machines: a clock skew of ``d`` shortens or
  lengthens the lease by ``d`` (seconds on NTP-synchronised machines, against hours of lease).
- A loser's ``acquire`` counts as held until its own ``release`` lands (milliseconds later): a
  third request in that window is refused too (conservative: never two holders, at worst a
  refusal while the URI was contended anyway).
- ``--force`` (of ``extract``/``shadow`` for a foreign local folder) does not override the
  bucket lock (``output_folder`` does not pass it on): a URI whose holder died on another
  machine frees itself when the lease expires.
- A Ray task retried on another node than the one its first attempt died on waits for the
  lease (it is refused with ``OUT_BUSY``, a harness fault of its repository).
- The table keeps every request (two commits per run, a checkpoint every ten): the log and its
  checkpoints grow by a few hundred bytes per run; nothing cleans it up yet.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import os
import socket
import sys
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from harness.errors import UsageError

LOCK_TABLE: Final = "_codeanatomy_lock"
"""The lock table's folder below an output URI; never pulled into a staging folder, never
published over (harness.storage), so never part of a run."""

OUT_BUSY: Final = "OUT_BUSY"
"""The same code as the local lock's (harness.run.lock.OUT_BUSY): exit 2."""

LEASE_S: Final = 6 * 3600
"""How long an ``acquire`` holds at most (seconds) unless released earlier."""

OWNER_KEY: Final = "codeanatomy.lock_owner"
"""The commit metadata key naming the owner of a commit (finds one's own version)."""

CHECKPOINT_INTERVAL: Final = 10
"""A checkpoint every this many requests (delta-rs's default is 100): each request reads the
log, so fewer log entries to replay make a request cheaper on a URI used often."""

_CREATE_ATTEMPTS: Final = 8
_ACTION_KEY: Final = "codeanatomy.lock_action"
_STATS_PREFIX: Final = 64
"""delta-rs keeps the first 64 characters of a string column in a file's statistics."""

ACQUIRE: Final = "acquire"
RELEASE: Final = "release"


@dataclass(frozen=True)
class Holder:
    """One request of the lock: who, where, since when, until when."""

    owner: str
    host: str
    pid: int
    command: str
    process: str
    """Where ``pid`` means something: this boot of the machine and its pid namespace (a
    digest), the pid and the process's start time; empty off Linux (:func:`_process_id`)."""
    at: dt.datetime
    expires_at: dt.datetime

    def describe(self) -> str:
        since = self.at.isoformat(timespec="seconds")
        until = self.expires_at.isoformat(timespec="seconds")
        return (
            f"host {self.host}, pid {self.pid}, {self.command or 'command unknown'}, "
            f"since {since}, lease until {until}"
        )


@dataclass(frozen=True)
class BucketLock:
    """A lock this process holds: the output URI, our request, and its commit's version."""

    uri: str
    holder: Holder
    version: int


def lock_uri(out_uri: str) -> str:
    """The lock table of the output ``out_uri``."""
    return f"{out_uri.rstrip('/')}/{LOCK_TABLE}"


def _schema() -> Any:
    import pyarrow as pa

    stamp = pa.timestamp("us", tz="UTC")
    return pa.schema(
        [
            ("owner", pa.string()),
            ("action", pa.string()),
            ("host", pa.string()),
            ("pid", pa.int64()),
            ("command", pa.string()),
            ("process", pa.string()),
            ("at", stamp),
            ("expires_at", stamp),
        ]
    )


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _append(table: str, holder: Holder, action: str, options: Mapping[str, str]) -> None:
    import pyarrow as pa
    from deltalake import CommitProperties, write_deltalake

    row = {
        "owner": [holder.owner],
        "action": [action],
        "host": [holder.host],
        "pid": [holder.pid],
        "command": [holder.command],
        "process": [holder.process],
        "at": [holder.at if action == ACQUIRE else _now()],
        "expires_at": [holder.expires_at],
    }
    from harness.storage import append_racing

    append_racing(
        lambda: write_deltalake(
            table,
            pa.table(row, schema=_schema()),
            mode="append",
            storage_options=dict(options),
            # Readers replay at most this many log entries after the newest checkpoint.
            configuration={"delta.checkpointInterval": str(CHECKPOINT_INTERVAL)},
            commit_properties=CommitProperties(
                custom_metadata={OWNER_KEY: holder.owner, _ACTION_KEY: action},
                # A lost race for a version is retried with the next (a ticket each).
                max_commit_retries=1000,
            ),
        ),
        _CREATE_ATTEMPTS,
        (0.02, 0.1),
    )


def _version_of(table: str, owner: str, action: str, options: Mapping[str, str]) -> int:
    """The version of the commit ``owner`` made with ``action``: the log entries from the newest
    back (``DeltaTable.history`` numbers entries wrongly while others commit at once)."""
    import json

    from deltalake import DeltaTable

    from harness.storage import _key, filesystem, split_uri

    newest = DeltaTable(table, storage_options=dict(options)).version()
    _scheme, bucket, prefix = split_uri(table)
    fs = filesystem(options)
    for version in range(newest, -1, -1):
        key = _key(bucket, prefix, f"_delta_log/{version:020d}.json")
        with fs.open_input_stream(key) as stream:
            lines = stream.read().decode("utf-8").splitlines()
        for line in lines:
            info = json.loads(line).get("commitInfo") if line.strip() else None
            if info and info.get(OWNER_KEY) == owner and info.get(_ACTION_KEY) == action:
                return version
    raise RuntimeError(f"{table}: the lock request of {owner} is not in the table's log")


def _rows(delta: Any, now: dt.datetime) -> list[dict[str, Any]]:
    """The rows of the table's unexpired leases. Each request is one commit of one row, and
    Delta's log keeps each data file's statistics: a one-row file's ``min`` values are its row
    (owner and action in full; host and command may be cut to a prefix), read from the log
    without opening a data file. Files of several rows (a table someone compacted) or without
    statistics are read."""
    import pyarrow as pa
    import pyarrow.compute as pc

    actions = pa.table(delta.get_add_actions(flatten=True)).to_pylist()
    rows: list[dict[str, Any]] = []
    unread = False
    for action in actions:
        if action.get("num_records") != 1 or any(
            action.get(f"min.{name}") is None for name in ("owner", "action", "expires_at")
        ):
            unread = True
            continue
        row = {name: action.get(f"min.{name}") for name in _schema().names}
        if row["process"] is not None and len(row["process"]) >= _STATS_PREFIX:
            unread = True  # possibly cut short: read the data
            continue
        if row["expires_at"] > now:
            rows.append(row)
    if unread:
        # Exact rows from the data (every file: statistics-read rows are replaced).
        rows = delta.to_pyarrow_table(filters=pc.field("expires_at") > now).to_pylist()
    return rows


def _active(
    table: str, options: Mapping[str, str], now: dt.datetime, version: int | None = None
) -> list[Holder]:
    """The acquires at ``version`` (the newest without) that are neither released nor expired
    at ``now``, oldest first."""
    from deltalake import DeltaTable

    delta = DeltaTable(table, version=version, storage_options=dict(options))
    rows = _rows(delta, now)
    released = {r["owner"] for r in rows if r["action"] == RELEASE}
    held = [
        Holder(
            owner=r["owner"],
            host=r["host"] or "",
            pid=int(r["pid"] or 0),
            command=r["command"] or "",
            process=r.get("process") or "",
            at=r["at"],
            expires_at=r["expires_at"],
        )
        for r in rows
        if r["action"] == ACQUIRE and r["owner"] not in released and not _dead(r)
    ]
    return sorted(held, key=lambda h: (h.at, h.owner))


def _in_full(table: str, options: Mapping[str, str], holder: Holder) -> Holder:
    """``holder`` with its host and command as written (statistics may cut them short)."""
    import pyarrow.compute as pc
    from deltalake import DeltaTable

    data = DeltaTable(table, storage_options=dict(options)).to_pyarrow_dataset()
    found = data.to_table(
        filter=(pc.field("owner") == holder.owner) & (pc.field("action") == ACQUIRE)
    ).to_pylist()
    if not found:
        return holder
    return dataclasses.replace(holder, host=found[0]["host"], command=found[0]["command"])


def _machine() -> str:
    """This boot of this machine and this pid namespace, as a short digest (empty when the
    system does not say: then no holder is ever found dead, its lease alone frees it)."""
    try:
        boot = Path("/proc/sys/kernel/random/boot_id").read_text(encoding="utf-8").strip()
        namespace = str(Path("/proc/self/ns/pid").readlink())
    except OSError:
        return ""
    return hashlib.sha256(f"{boot}/{namespace}".encode()).hexdigest()[:16]


def _started(pid: int) -> str | None:
    """The start time (clock ticks since boot) of process ``pid``; None when it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8")
    except OSError:
        return None
    # The command name (2nd field) may hold spaces: the fields after its ")" are plain.
    fields = stat.rsplit(")", 1)[-1].split()
    return fields[19] if len(fields) > 19 else None


def _process_id(pid: int) -> str:
    machine = _machine()
    started = _started(pid)
    return f"{machine}:{pid}:{started}" if machine and started else ""


def _dead(row: Mapping[str, Any]) -> bool:
    """Whether the request's process is known to be gone: it ran on this machine (same boot,
    same pid namespace) and no process with its pid and start time exists any more (killed,
    crashed). A holder on another machine is never known dead: its lease frees it."""
    recorded = row.get("process") or ""
    machine, _, rest = recorded.partition(":")
    if not machine or machine != _machine():
        return False
    pid, _, started = rest.partition(":")
    return not pid.isdigit() or _started(int(pid)) != started


def _default_command() -> str:
    words = [Path(sys.argv[0]).name if sys.argv else "", *sys.argv[1:]]
    return " ".join(w for w in words if w)[:300]


def _exists(table: str, options: Mapping[str, str]) -> bool:
    from harness.storage import delta_exists

    try:
        return delta_exists(table, options)
    except UsageError as exc:  # listing failed: re-raised as the lock's store error
        raise OSError(exc.message) from None


def _store_error(out_uri: str, exc: BaseException, options: Mapping[str, str]) -> UsageError:
    from harness.storage import storage_error

    return storage_error(lock_uri(out_uri), exc, options)


_FAILURES: Final = (OSError, ValueError, RuntimeError)
"""What a failed store request raises through delta-rs (its errors derive from these)."""


def acquire(
    out_uri: str,
    options: Mapping[str, str],
    command: str | None = None,
    *,
    lease_s: float = LEASE_S,
) -> BucketLock:
    """Take the lock of ``out_uri`` or refuse at once: ``UsageError(OUT_BUSY)`` naming the
    holder. Creates the lock table on first use (the first request is version 0). A store
    that refuses the requests is a ``STORAGE_*`` usage error."""
    table = lock_uri(out_uri)
    at = _now()
    holder = Holder(
        owner=uuid.uuid4().hex,
        host=socket.gethostname(),
        pid=os.getpid(),
        process=_process_id(os.getpid()),
        command=_default_command() if command is None else command[:300],
        at=at,
        expires_at=at + dt.timedelta(seconds=lease_s),
    )
    try:
        _append(table, holder, ACQUIRE, options)
        version = _version_of(table, holder.owner, ACQUIRE, options)
        active = _active(table, options, _now(), version)
        others = [h for h in active if h.owner != holder.owner]
        if others:
            _append(table, holder, RELEASE, options)
            others[0] = _in_full(table, options, others[0])
    except _FAILURES as exc:
        raise _store_error(out_uri, exc, options) from None
    if others:
        raise UsageError(
            OUT_BUSY,
            f"{out_uri} is being written by another codeanatomy run ({others[0].describe()}); "
            "wait for it to finish or choose another --out (an abandoned lock frees itself "
            "when its lease ends)",
        )
    return BucketLock(uri=out_uri, holder=holder, version=version)


def release(lock: BucketLock, options: Mapping[str, str]) -> bool:
    """Give the lock up; ``False`` (and nothing written) when it is not held (released
    already, expired, or never taken: no lock table)."""
    table = lock_uri(lock.uri)
    try:
        if not _exists(table, options):
            return False
        if not any(h.owner == lock.holder.owner for h in _active(table, options, _now())):
            return False
        _append(table, lock.holder, RELEASE, options)
    except _FAILURES as exc:
        raise _store_error(lock.uri, exc, options) from None
    return True


def holders(out_uri: str, options: Mapping[str, str]) -> list[Holder]:
    """The requests of ``out_uri``'s lock in force now (none without a lock table); the first
    holds it, any other is a loser whose release has not landed yet."""
    table = lock_uri(out_uri)
    try:
        if not _exists(table, options):
            return []
        return _active(table, options, _now())
    except _FAILURES as exc:
        raise _store_error(out_uri, exc, options) from None


@contextmanager
def hold(
    out_uri: str,
    options: Mapping[str, str],
    command: str | None = None,
    *,
    lease_s: float = LEASE_S,
) -> Iterator[BucketLock]:
    """Hold ``out_uri``'s lock for the block; released when the block ends, however it ends
    (one append: the holder knows it holds). A release the store refuses is raised only when
    the block itself ended normally; otherwise the block's own error is kept and the lock
    frees itself at the end of its lease."""
    lock = acquire(out_uri, options, command, lease_s=lease_s)
    failed = True
    try:
        yield lock
        failed = False
    finally:
        try:
            _append(lock_uri(out_uri), lock.holder, RELEASE, options)
        except _FAILURES as exc:
            if not failed:
                raise _store_error(out_uri, exc, options) from None
