"""The changed CPG rows of a run folder, from the Delta change data feed of its output tables.

A build into a run folder that already holds one updates each output table (a MERGE of the
changed rows, or an overwrite); either way the table's change data feed (CDF) records the rows
each version deleted, inserted or updated. :func:`list_changes` reads the feed of
``cpg_nodes``, ``cpg_edges``, ``cpg_props`` and ``diagnostics`` over a window of versions and
nets it per primary key (CONTRACT keys, ``backends/contract/schemas.py``): a row is *added*
when its key did not exist before the window and does at its end, *removed* in the opposite
case, *changed* when it exists at both ends with other values (a MERGE's update pre/post images,
or an overwrite's delete and insert of the same key), and not listed when it is back to its
first state. An overwrite's feed is the whole table out and in; netting leaves what changed.

The window of a table is ``since + 1 .. latest``: ``since`` is ``--since`` when given, else the
persisted cursor (:mod:`harness.run.cursor`; no entry: before the table's creation, -1).
Without ``--since`` the cursor then moves to ``latest``. Errors are :class:`ChangesError`
(usage errors, exit 2) with a stable code and the facts as context: ``CDF_WINDOW_VACUUMED``
(a needed commit or change file is gone: the table, the requested version and the oldest one
still readable), ``CDF_DISABLED`` (the table has no change data feed), ``CURSOR_AHEAD``,
``VERSION_AHEAD``, ``INPUT_MISSING`` (no output table), ``TABLE_UNREADABLE`` (its log is
broken), and the run-folder codes of :mod:`harness.boundary`.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Literal

import msgspec
import pyarrow as pa
import pyarrow.compute as pc

from backends.contract.schemas import OUTPUT_TABLES
from harness.boundary import INPUT_MISSING, NOT_A_RUN, RUN_NOT_FOUND, run_dir
from harness.errors import UsageError
from harness.run.cursor import cursor_path, read_cursor, write_cursor
from harness.run.manifest import RunManifest, locate, read_manifest

CHANGE_TABLES: Final[tuple[str, ...]] = ("cpg_nodes", "cpg_edges", "cpg_props", "diagnostics")
"""The output tables whose changes are listed, in listing order."""

CDF_WINDOW_VACUUMED: Final = "CDF_WINDOW_VACUUMED"
CDF_DISABLED: Final = "CDF_DISABLED"
CURSOR_AHEAD: Final = "CURSOR_AHEAD"
VERSION_AHEAD: Final = "VERSION_AHEAD"
UNKNOWN_TABLE: Final = "UNKNOWN_TABLE"
SIDE_NOT_FOUND: Final = "SIDE_NOT_FOUND"
SIDE_REQUIRED: Final = "SIDE_REQUIRED"
TABLE_UNREADABLE: Final = "TABLE_UNREADABLE"

#: The change feed's own columns (delta-rs names), next to the table's.
_META: Final = ("_change_type", "_commit_version", "_commit_timestamp")
_OLD_IMAGES: Final = ("delete", "update_preimage")
#: The ``served_by`` of a shadow side that served the caller (harness/shadow/side.py).
_SHADOW_PRIMARY: Final = ("shadow", "shadow primary")

Change = Literal["added", "removed", "changed"]
Value = str | int | float | bool | None


class ChangesError(UsageError):
    """A usage error of ``changes`` with the facts behind it (table, versions) as context."""

    def __init__(self, code: str, message: str, **context: Value) -> None:
        super().__init__(code, message)
        self.context = context

    def to_dict(self) -> dict[str, Any]:
        """The ``error`` object of a ``--json`` answer: code, message and the context."""
        return {"code": self.code, "message": self.message, **self.context}


class RowChange(msgspec.Struct, frozen=True, kw_only=True):
    """One row of an output table that the window added, removed or changed.

    ``key`` is the row's primary key; ``kind`` (a diagnostic's code), ``name``, ``qualname`` and
    ``path`` describe it (its later image, the earlier one for a removed row); ``ids`` holds its
    id columns (a node's id, an edge's id and ends); ``columns`` are the columns a changed row
    changed in; ``before``/``after`` are the whole row at both ends of the window (null where it
    did not exist). ``version`` is the last version of the window that touched it.
    """

    table: str
    change: Change
    version: int
    key: dict[str, Value]
    kind: str | None = None
    name: str | None = None
    qualname: str | None = None
    path: str | None = None
    ids: dict[str, str] = {}
    columns: tuple[str, ...] = ()
    before: dict[str, Value] | None = None
    after: dict[str, Value] | None = None


class TableWindow(msgspec.Struct, frozen=True, kw_only=True):
    """The versions read of one table: ``since + 1 .. latest`` (empty when equal)."""

    table: str
    since: int
    latest: int
    added: int
    removed: int
    changed: int

    @property
    def changes(self) -> int:
        return self.added + self.removed + self.changed


class ChangeSet(msgspec.Struct, frozen=True, kw_only=True):
    """What ``codeanatomy changes`` found: the run read, each table's window, every change
    (sorted by table, then key), and whether the cursor moved (and where it is kept)."""

    run: str
    side: str | None
    tables: tuple[TableWindow, ...]
    changes: tuple[RowChange, ...]
    cursor: str | None
    """The cursor file when it moved (no ``--since``); null when it stayed."""


@dataclass(frozen=True)
class RunOutputs:
    """The run directory whose outputs are read: the folder given, or one side of a shadow
    folder, with its manifest."""

    run_dir: Path
    side: str | None
    manifest: RunManifest

    def table_uri(self, table: str) -> Path:
        """Where the output ``table`` is now (relocatable, DESIGN §3)."""
        entry = next((o for o in self.manifest.outputs if o.table == table), None)
        if entry is None:
            return self.run_dir / "outputs" / table
        return locate(self.run_dir, "outputs", entry)


def _side_dirs(folder: Path) -> dict[str, Path]:
    try:
        children = sorted(folder.iterdir())
    except OSError:
        return {}
    return {c.name: c for c in children if (c / "run.json").is_file()}


def resolve_run(run: str | Path, side: str | None = None) -> RunOutputs:
    """The run directory to read: ``run`` itself, or in a shadow folder (sides, no run.json of
    its own) the side named by ``side``, else the side that served the build (its run.json
    says ``shadow primary``)."""
    folder = Path(run).expanduser().resolve()
    if not folder.exists():
        raise UsageError(RUN_NOT_FOUND, f"run {run} does not exist")
    if (folder / "run.json").is_file():
        found = run_dir(folder)
        manifest = read_manifest(found / "run.json")
        if side is not None and side != manifest.backend:
            raise ChangesError(
                SIDE_NOT_FOUND,
                f"run {run} is a {manifest.backend} run, not a shadow folder with a {side} side",
                side=side,
            )
        return RunOutputs(run_dir=found, side=None, manifest=manifest)
    sides = _side_dirs(folder) if folder.is_dir() else {}
    if not sides:
        run_dir(folder)  # raises NOT_A_RUN, naming what the folder is
        raise UsageError(NOT_A_RUN, f"{run} is not a run directory")  # pragma: no cover
    if side is not None:
        if side not in sides:
            raise ChangesError(
                SIDE_NOT_FOUND,
                f"shadow run {run} has no side {side!r}; its sides: {', '.join(sides)}",
                side=side,
            )
        chosen = side
    else:
        served = [
            name
            for name, path in sides.items()
            if _served_primary(read_manifest(run_dir(path) / "run.json"))
        ]
        if len(served) != 1:
            raise ChangesError(
                SIDE_REQUIRED,
                f"shadow run {run}: cannot tell which side served ({', '.join(sides)}); "
                "name one with --side",
            )
        chosen = served[0]
    found = run_dir(sides[chosen])
    return RunOutputs(run_dir=found, side=chosen, manifest=read_manifest(found / "run.json"))


def _served_primary(manifest: RunManifest) -> bool:
    served = manifest.served_by
    return served is not None and (served.source, served.reason) == _SHADOW_PRIMARY


def check_tables(tables: Iterable[str]) -> tuple[str, ...]:
    """The tables asked for, in listing order (all of :data:`CHANGE_TABLES` when none)."""
    asked = set(tables)
    unknown = sorted(asked - set(CHANGE_TABLES))
    if unknown:
        raise ChangesError(
            UNKNOWN_TABLE,
            f"--table {', '.join(unknown)}: not a listed output table; "
            f"choose from {', '.join(CHANGE_TABLES)}",
        )
    return tuple(t for t in CHANGE_TABLES if not asked or t in asked)


# ---------------------------------------------------------------------------------------------
# Reading the feed
# ---------------------------------------------------------------------------------------------


def _open(table: str, uri: Path) -> Any:
    from deltalake import DeltaTable

    if not (uri / "_delta_log").is_dir():
        raise ChangesError(
            INPUT_MISSING,
            f"the run has no {table} table (no Delta table at {uri}); build it first",
            table=table,
        )
    try:
        dt_ = DeltaTable(str(uri))
    except Exception as exc:  # delta-rs raises several types for a broken log
        raise ChangesError(
            TABLE_UNREADABLE,
            f"{table} ({uri}) cannot be opened as a Delta table: {type(exc).__name__}: {exc}",
            table=table,
        ) from exc
    enabled = dt_.metadata().configuration.get("delta.enableChangeDataFeed", "false")
    if enabled.lower() != "true":
        raise ChangesError(
            CDF_DISABLED,
            f"{table} ({uri}) has no change data feed (delta.enableChangeDataFeed is not "
            "true): it was written by a build that did not enable it; rebuild into a new folder",
            table=table,
        )
    return dt_


#: delta-rs returns strings as views; pyarrow's take and group-by want plain strings.
_PLAIN: Final = {pa.string_view(): pa.string(), pa.binary_view(): pa.binary()}


def _load(dt_: Any, start: int, end: int) -> pa.Table:
    """The raw feed of versions ``start..end``; the feed is read to the end here, so that a
    change file that is gone fails now, not while the rows are netted."""
    feed = pa.table(dt_.load_cdf(starting_version=start, ending_version=end))
    schema = pa.schema(
        [f.with_type(_PLAIN.get(f.type, f.type)) for f in feed.schema], metadata=None
    )
    return feed.cast(schema)


def _readable(dt_: Any, start: int, end: int) -> bool:
    try:
        _load(dt_, start, end)
    except Exception:  # any failure to read a version: it is not kept
        return False
    return True


def _oldest_readable(dt_: Any, start: int, end: int) -> int | None:
    """The oldest ``v`` in ``start..end`` from which the feed up to ``end`` reads (binary
    search: a window that reads still reads when it starts later); None when not even ``end``
    alone reads."""
    if not _readable(dt_, end, end):
        return None
    low, high = start, end  # high reads; find the least v in [low, high] that reads
    while low < high:
        middle = (low + high) // 2
        if _readable(dt_, middle, end):
            high = middle
        else:
            low = middle + 1
    return high


def read_feed(table: str, dt_: Any, since: int, latest: int) -> pa.Table:
    """The change feed of versions ``since + 1 .. latest`` of ``table`` (opened as ``dt_``).

    ChangesError ``CDF_WINDOW_VACUUMED`` when a commit or a data or change file of one of those
    versions is gone (vacuumed, log cleaned up): it names the oldest version still readable.
    """
    start = since + 1
    try:
        return _load(dt_, start, latest)
    except Exception as exc:  # delta-rs and Arrow raise several types for a gone file
        oldest = _oldest_readable(dt_, start, latest)
        if oldest is None:
            kept = f"not even version {latest} can be read"
        else:
            kept = f"the oldest version kept is {oldest} (--since {oldest - 1} lists from it)"
        raise ChangesError(
            CDF_WINDOW_VACUUMED,
            f"{table}: the change data feed from version {start} is gone (vacuumed or its log "
            f"cleaned up): {kept}; --reset moves the cursor to the latest version without "
            f"listing ({type(exc).__name__}: {exc})",
            table=table,
            requested_version=start,
            oldest_available=oldest,
            latest_version=latest,
        ) from exc


# ---------------------------------------------------------------------------------------------
# Netting the feed per key
# ---------------------------------------------------------------------------------------------


def _same(left: pa.ChunkedArray, right: pa.ChunkedArray) -> pa.ChunkedArray:
    """Element-wise equality where two nulls are equal."""
    both_null = pc.and_(pc.is_null(left), pc.is_null(right))
    return pc.or_(pc.fill_null(pc.equal(left, right), False), both_null)


def _rows(table: pa.Table, columns: Sequence[str]) -> list[dict[str, Value]]:
    rows: list[dict[str, Value]] = table.select(list(columns)).to_pylist()
    return rows


def net_changes(table: str, feed: pa.Table) -> tuple[RowChange, ...]:
    """The rows the feed of ``table`` added, removed or changed over its whole window, one per
    primary key, sorted by key.

    Per key the feed's events are ordered by version, old images (delete, update pre-image)
    before new ones (insert, update post-image) within a version: the first event tells the
    row's state before the window (an old image: it existed, as that image), the last one its
    state after (a new image: it exists, as that image).
    """
    key = list(OUTPUT_TABLES[table].primary_key)
    columns = [c for c in feed.column_names if c not in _META]
    if feed.num_rows == 0:
        return ()
    old = pc.is_in(feed.column("_change_type"), value_set=pa.array(_OLD_IMAGES))
    events = feed.append_column("__new", pc.invert(old)).append_column(
        "__row", pa.array(range(feed.num_rows), pa.int64())
    )
    events = events.take(
        pc.sort_indices(
            events,
            sort_keys=[
                ("_commit_version", "ascending"),
                ("__new", "ascending"),
                ("__row", "ascending"),
            ],
        )
    )
    events = events.append_column("__pos", pa.array(range(events.num_rows), pa.int64()))
    ends = events.group_by(key).aggregate([("__pos", "min"), ("__pos", "max")])
    first = events.take(ends.column("__pos_min"))
    last = events.take(ends.column("__pos_max"))
    existed = pc.invert(first.column("__new"))
    exists = last.column("__new")
    differs: list[tuple[str, pa.ChunkedArray]] = [
        (c, pc.invert(_same(first.column(c), last.column(c)))) for c in columns
    ]
    any_differs = functools.reduce(pc.or_, (mask for _, mask in differs))
    masks: dict[Change, pa.ChunkedArray] = {
        "added": pc.and_(pc.invert(existed), exists),
        "removed": pc.and_(existed, pc.invert(exists)),
        "changed": pc.and_(pc.and_(existed, exists), any_differs),
    }
    found: list[RowChange] = []
    for change, mask in masks.items():
        befores = _rows(first.filter(mask), columns) if change != "added" else None
        afters = _rows(last.filter(mask), columns) if change != "removed" else None
        versions = last.filter(mask).column("_commit_version").to_pylist()
        changed_cols: list[tuple[str, ...]] = [()] * len(versions)
        if change == "changed":
            flags = [(c, m.filter(mask).to_pylist()) for c, m in differs]
            changed_cols = [
                tuple(c for c, values in flags if values[i]) for i in range(len(versions))
            ]
        for i, version in enumerate(versions):
            before = befores[i] if befores is not None else None
            after = afters[i] if afters is not None else None
            found.append(_row_change(table, change, int(version), before, after, changed_cols[i]))
    return tuple(sorted(found, key=_sort_key))


def _text(value: Value) -> str | None:
    return None if value is None else str(value)


def _row_change(
    table: str,
    change: Change,
    version: int,
    before: dict[str, Value] | None,
    after: dict[str, Value] | None,
    columns: tuple[str, ...],
) -> RowChange:
    row = after if after is not None else before
    assert row is not None
    key = {k: row[k] for k in OUTPUT_TABLES[table].primary_key}
    ids = {k: str(v) for k, v in row.items() if k.endswith("_id") and v is not None}
    kind = row.get("kind") if table in ("cpg_nodes", "cpg_edges") else row.get("code")
    return RowChange(
        table=table,
        change=change,
        version=version,
        key=key,
        kind=_text(kind) if kind is not None else None,
        name=_text(row.get("name")),
        qualname=_text(row.get("qualname")),
        path=_text(row.get("path")),
        ids=ids,
        columns=columns,
        before=before,
        after=after,
    )


def _sort_key(change: RowChange) -> tuple[int, tuple[tuple[bool, str], ...], str]:
    values = tuple((v is not None, "" if v is None else str(v)) for v in change.key.values())
    return (CHANGE_TABLES.index(change.table), values, change.change)


# ---------------------------------------------------------------------------------------------
# The command's one function
# ---------------------------------------------------------------------------------------------


def list_changes(
    run: str | Path,
    *,
    since: int | None = None,
    tables: Iterable[str] = (),
    side: str | None = None,
    reset: bool = False,
    now: dt.datetime | None = None,
) -> ChangeSet:
    """The changes of the output ``tables`` (all four when empty) of the run ``run``.

    ``since`` given: versions ``since + 1 .. latest`` of every table, the cursor untouched.
    Otherwise: from each table's cursor (none: from its creation) to its latest version, and
    the cursor then moves there; with ``reset`` nothing is read and the cursor only moves.
    Nothing is written unless every table was read.
    """
    chosen = check_tables(tables)
    outputs = resolve_run(run, side)
    cursor = read_cursor(outputs.run_dir).tables
    opened = {t: _open(t, outputs.table_uri(t)) for t in chosen}
    latest = {t: int(d.version()) for t, d in opened.items()}
    if since is not None and all(since > v for v in latest.values()):
        shown = ", ".join(f"{t} {v}" for t, v in latest.items())
        raise ChangesError(
            VERSION_AHEAD,
            f"--since {since} is after the latest version of every table ({shown})",
            requested_version=since,
        )
    windows: list[TableWindow] = []
    found: list[RowChange] = []
    for table in chosen:
        start = since if since is not None else cursor.get(table, -1)
        if start > latest[table] and since is None and not reset:
            raise ChangesError(
                CURSOR_AHEAD,
                f"{table}: the cursor is at version {start} but the table's latest is "
                f"{latest[table]} (the table was written anew); --reset moves the cursor "
                "to the latest version",
                table=table,
                requested_version=start,
                latest_version=latest[table],
            )
        start = min(start, latest[table])
        rows: tuple[RowChange, ...] = ()
        if reset and since is None:
            start = latest[table]
        elif start < latest[table]:
            feed = read_feed(table, opened[table], start, latest[table])
            rows = net_changes(table, feed)
        found.extend(rows)
        windows.append(
            TableWindow(
                table=table,
                since=start,
                latest=latest[table],
                added=sum(r.change == "added" for r in rows),
                removed=sum(r.change == "removed" for r in rows),
                changed=sum(r.change == "changed" for r in rows),
            )
        )
    moved = None
    if since is None:
        write_cursor(outputs.run_dir, latest, now)
        moved = str(cursor_path(outputs.run_dir))
    return ChangeSet(
        run=str(outputs.run_dir),
        side=outputs.side,
        tables=tuple(windows),
        changes=tuple(found),
        cursor=moved,
    )
