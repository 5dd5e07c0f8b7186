"""One writer per run folder: ``build`` (the library's ``build_graph_product``), ``extract``,
``shadow`` and the ``golden`` commands hold ``OUT/.codeanatomy.lock``.

Two runs into one ``--out`` would mix their rows (each commits to the same Delta tables) and
the last ``run.json`` would describe tables the other run also wrote. So a command takes an
exclusive ``fcntl.flock`` on a lock file inside the folder for as long as it writes, and a
second command is refused at once (``OUT_BUSY``, exit 2), never queued behind the first.

A folder that already holds files codeanatomy did not write (no marker, no run of ours) is
refused too (``OUT_NOT_OURS``) unless ``--force``: a run overwrites ``run.json``, ``outputs/``
and ``evidence/`` and a user's files of those names would be lost without a word. Once taken,
the folder carries the marker ``.codeanatomy-out``, so later runs into it need no ``--force``.

The lock file is never deleted: removing it while another process waits on it would let two
writers hold two different files of the same name.
"""

from __future__ import annotations

import datetime as dt
import errno
import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Final

import msgspec

from backends.extract.repo_scan import RUN_FOLDER_MARKER
from harness.errors import UsageError

LOCK_NAME: Final = ".codeanatomy.lock"
MARKER_NAME: Final = RUN_FOLDER_MARKER
OUT_BUSY: Final = "OUT_BUSY"
OUT_NOT_OURS: Final = "OUT_NOT_OURS"

# Leftovers of our own that say nothing about whose folder it is (the boundary's write probe).
_OURS_BY_NAME: Final = (LOCK_NAME, MARKER_NAME)
_OURS_BY_PREFIX: Final = (".codeanatomy-probe-",)
_SHADOW_SHARED: Final = ("evidence", "report")


class LockHolder(msgspec.Struct, frozen=True, kw_only=True):
    """What the lock file says about the run that holds it (shown to the refused one)."""

    pid: int
    command: str
    since: str


def _is_our_run(folder: Path) -> bool:
    """A run of ours: a ``run.json`` that reads as a run manifest."""
    from harness.run.manifest import read_manifest

    path = folder / "run.json"
    if not path.is_file():
        return False
    try:
        read_manifest(path)
    except Exception:  # a file of that name that is not our manifest: someone else's
        return False
    return True


def is_ours(folder: Path) -> bool:
    """Whether everything in ``folder`` was written by codeanatomy: it is empty, carries the
    marker, is a run of ours, or is a shadow root of ours from before the marker existed (a
    ``report/parity.json``, or runs of ours beside ``evidence/`` and ``report/`` only)."""
    if (folder / MARKER_NAME).is_file() or _is_our_run(folder):
        return True
    entries = [
        p
        for p in folder.iterdir()
        if p.name not in _OURS_BY_NAME and not p.name.startswith(_OURS_BY_PREFIX)
    ]
    if not entries:
        return True
    if (folder / "report" / "parity.json").is_file():
        return True
    # A shadow root: its sides' runs beside the evidence they shared (DESIGN §3 layout).
    runs = [p for p in entries if p.is_dir() and _is_our_run(p)]
    shared = [p for p in entries if p.name in _SHADOW_SHARED and p.is_dir()]
    return bool(runs) and len(runs) + len(shared) == len(entries)


def _holder(handle_path: Path) -> str:
    try:
        holder = msgspec.json.decode(handle_path.read_bytes(), type=LockHolder)
    except Exception:  # written by a run that has not finished writing it: no details
        return ""
    return f" (pid {holder.pid}, {holder.command}, since {holder.since})"


def _refuse_foreign(folder: Path, force: bool) -> None:
    if not force and not is_ours(folder):
        raise UsageError(
            OUT_NOT_OURS,
            f"{folder} holds files codeanatomy did not write (no run.json of ours); a run "
            "would overwrite run.json, evidence/ and outputs/ there. Choose an empty folder, "
            "or pass --force to write into it anyway",
        )


@contextmanager
def hold_out_folder(folder: Path, command: str, *, force: bool = False) -> Iterator[Path]:
    """Hold ``folder`` (existing) as the one writer for the block; yield it.

    UsageError ``OUT_BUSY`` when another run holds it; ``OUT_NOT_OURS`` when it holds files we
    did not write and ``force`` is false. The lock is released when the block ends, or when
    the process dies (the kernel drops a flock with its last file descriptor).
    """
    # First without the lock, so that a refused folder is left as it was (no lock file in it).
    _refuse_foreign(folder, force)
    path = folder / LOCK_NAME
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise
            raise UsageError(
                OUT_BUSY,
                f"{folder} is being written by another codeanatomy run{_holder(path)}; "
                "wait for it to finish or choose another --out",
            ) from exc
        # Again under the lock: what a run finishing just now left is ours, and what someone
        # else put there meanwhile is not.
        _refuse_foreign(folder, force)
        holder = LockHolder(
            pid=os.getpid(),
            command=command,
            since=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        )
        os.ftruncate(fd, 0)
        os.pwrite(fd, msgspec.json.encode(holder), 0)
        marker = folder / MARKER_NAME
        if not marker.is_file():
            marker.write_text("codeanatomy run folder\n", encoding="utf-8")
        yield folder
    finally:
        os.close(fd)  # releases the flock
