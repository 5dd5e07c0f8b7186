"""The persisted cursor of ``codeanatomy changes``: ``RUN/cursors/changes.json``.

``RUN`` is the run directory whose ``outputs/`` the cursor follows (the folder holding its
``run.json``; in a shadow folder, the side's folder, e.g. ``OUT/rust``). The file is::

    {"tables": {"<table>": <last version listed>, ...}, "updated_at": "<ISO 8601, UTC>"}

A table's entry is the last Delta version of ``RUN/outputs/<table>`` that ``changes`` listed:
its next call reads the change data feed from that version + 1, so Delta maintenance
(``codeanatomy maintain``) must keep every version above it readable. A table without an entry
has not been listed yet (its next call starts at the table's creation). The file is replaced
atomically; it is the contract between ``changes`` and ``maintain``: keep its path and format.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from pathlib import Path, PurePosixPath

import msgspec

from harness.errors import UsageError
from harness.run.manifest import write_atomic

CURSOR_PATH = PurePosixPath("cursors") / "changes.json"
"""Where the cursor lives, relative to the run directory."""

CURSOR_INVALID = "CURSOR_INVALID"
"""The cursor file exists but is not a cursor (hand-edited, truncated by another tool)."""


class ChangesCursor(msgspec.Struct, frozen=True, kw_only=True):
    """The content of ``cursors/changes.json``: per output table, the last version listed."""

    tables: dict[str, int] = {}
    updated_at: str | None = None

    def __post_init__(self) -> None:
        for table, version in self.tables.items():
            if version < 0:
                raise msgspec.ValidationError(
                    f"version {version} of {table!r} is negative - at `$.tables`"
                )


def cursor_path(run_dir: Path) -> Path:
    """The cursor file of the run directory ``run_dir``."""
    return run_dir / CURSOR_PATH


def read_cursor(run_dir: Path) -> ChangesCursor:
    """The cursor of ``run_dir``; an empty one when there is no file yet.

    UsageError ``CURSOR_INVALID`` when the file is not a cursor: a guess would list changes
    twice or skip some.
    """
    path = cursor_path(run_dir)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return ChangesCursor()
    except OSError as exc:
        raise UsageError(CURSOR_INVALID, f"cursor {path} cannot be read: {exc}") from exc
    try:
        return msgspec.json.decode(data, type=ChangesCursor)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise UsageError(
            CURSOR_INVALID,
            f"cursor {path} is not a changes cursor ({exc}); fix it, or delete it to list "
            "every table from its creation",
        ) from exc


def write_cursor(
    run_dir: Path, listed: Mapping[str, int], now: dt.datetime | None = None
) -> ChangesCursor:
    """Move the cursor of each table of ``listed`` to its version (other tables keep theirs)
    and write the file atomically; return what was written."""
    tables = {**read_cursor(run_dir).tables, **listed}
    moment = now if now is not None else dt.datetime.now(dt.UTC)
    cursor = ChangesCursor(
        tables=dict(sorted(tables.items())),
        updated_at=moment.isoformat(timespec="seconds"),
    )
    write_atomic(cursor_path(run_dir), msgspec.json.format(msgspec.json.encode(cursor)) + b"\n")
    return cursor
