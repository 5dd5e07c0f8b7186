"""The Delta maintenance policy (issue 14.5): compact small files, vacuum what no pin reads,
checkpoint, and clean up the log, per table, with a report of what was done.

Incremental builds commit one MERGE per table and build, and the parity history one append per
run, so tables gather small files, tombstones and log entries. :func:`maintain_table` applies
one :class:`~harness.config.model.MaintenanceConfig` to one table; :func:`maintain_run` to every
Delta table of a run folder (evidence, outputs, views, both sides of a shadow folder);
:func:`maintain_history` to the parity history once it holds too many files.

Pins. A version a ``run.json`` names (an input, an output, a ``version_before``) must stay
readable, and a cursor of ``codeanatomy changes`` (``cursors/changes.json``) must still read the
change data feed of every later version. What delta-rs vacuum deletes (deltalake 1.6,
``crates/core/src/operations/vacuum.rs``): in its default "lite" mode only the data files of
*tombstones* (``remove`` actions) older than the retention; ``_change_data`` files never carry
a tombstone, so lite mode never deletes them ("full" mode deletes every untracked file older
than the retention, ``_change_data`` included, so it is never used here). A tombstoned file is
kept when it belongs to a version of ``keep_versions``. So the pins go to vacuum as
``keep_versions``: a run's pinned versions, and for a cursor at ``c`` every version from ``c``
to the newest, since the feed of version ``v`` reads the files ``v`` added (in snapshot ``v``)
and, without ``_change_data``, the files it removed (in snapshot ``v - 1``). The retention then
only bounds what no pin reads; it is the largest the policy allows while every pin stays
readable, and the tests prove the pins by reading them after a vacuum with retention 0.

Compaction (``optimize.compact``) commits with ``dataChange = false``: the change data feed
skips it and the table's content fingerprint is unchanged (tests). Log cleanup
(``cleanup_metadata``) deletes log entries before the newest checkpoint, so it only runs when
no pin lies before that checkpoint.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Final

import msgspec
import pyarrow as pa
from deltalake import DeltaTable
from deltalake.exceptions import DeltaError

from harness.config.model import MaintenanceConfig
from harness.errors import UsageError
from harness.pins import (
    LOG_DIR,
    Pin,
    collect_pins,
    find_tables,
    is_delta_table,
    keep_versions,
    pin_root,
    relative_to,
)
from harness.storage import filesystem, is_uri, list_files, split_uri

NO_DELTA_TABLE: Final = "NO_DELTA_TABLE"
MAINTAIN_PATH_MISSING: Final = "MAINTAIN_PATH_MISSING"


class Compaction(msgspec.Struct, frozen=True, kw_only=True):
    """What compaction did: files before and after, the version it committed."""

    files_before: int
    small_files: int
    files_after: int | None = None
    """None on a dry run (compaction not done)."""
    version: int | None = None
    skipped: str | None = None


class Vacuum(msgspec.Struct, frozen=True, kw_only=True):
    """What vacuum deleted (on a dry run: would delete), and the versions it kept."""

    files: int = 0
    bytes: int = 0
    retention_hours: int = 0
    kept_versions: tuple[int, ...] = ()
    skipped: str | None = None


class Checkpoint(msgspec.Struct, frozen=True, kw_only=True):
    """The checkpoint written (or due, on a dry run) and the log cleanup after it."""

    version: int | None = None
    previous: int | None = None
    skipped: str | None = None
    log_files_removed: int = 0
    cleanup_skipped: str | None = None


class TableMaintenance(msgspec.Struct, frozen=True, kw_only=True):
    """One table's maintenance: what each step did, the pins it honoured, or its failure."""

    path: str
    """The table relative to the maintained folder (``.`` when the folder is the table)."""
    version_before: int
    version_after: int
    pins: tuple[Pin, ...]
    compaction: Compaction | None = None
    vacuum: Vacuum | None = None
    checkpoint: Checkpoint | None = None
    error: str | None = None


class MaintenanceReport(msgspec.Struct, frozen=True, kw_only=True):
    """What ``codeanatomy maintain`` did to every Delta table below ``root``."""

    root: str
    dry_run: bool
    policy: MaintenanceConfig
    tables: tuple[TableMaintenance, ...]

    @property
    def failed(self) -> tuple[TableMaintenance, ...]:
        """The tables whose maintenance raised a Delta error."""
        return tuple(t for t in self.tables if t.error is not None)


class _Location:
    """Where a table's files are: a local folder, or an object-store URI read with its
    options (the parity history may live in a bucket, harness/storage.py)."""

    def __init__(self, where: Path | str, options: Mapping[str, str] | None) -> None:
        self.where = where
        self.options = dict(options or {})
        self.remote = is_uri(where)

    @property
    def text(self) -> str:
        return str(self.where).rstrip("/") if self.remote else str(self.where)

    def table(self, version: int | None = None) -> DeltaTable:
        options = self.options or None
        if version is None:
            return DeltaTable(self.text, storage_options=options)
        return DeltaTable(self.text, version=version, storage_options=options)

    def sizes(self) -> dict[str, int]:
        """Every file of the table, relative to it, with its size."""
        if self.remote:
            return list_files(self.text, self.options)
        root = Path(self.where)
        return {
            p.relative_to(root).as_posix(): p.stat().st_size for p in root.rglob("*") if p.is_file()
        }

    def relative(self, name: str) -> str:
        """A file name as delta-rs gives it (relative, or a full URI or path) made relative."""
        prefix = self.text.rstrip("/") + "/"
        return name[len(prefix) :] if name.startswith(prefix) else name

    def read(self, rel: str) -> bytes | None:
        try:
            if not self.remote:
                return (Path(self.where) / rel).read_bytes()
            _scheme, bucket, key = split_uri(self.text)
            with filesystem(self.options).open_input_stream(f"{bucket}/{key}/{rel}") as f:
                return bytes(f.read())
        except (OSError, ValueError):
            return None

    def log_files(self) -> int:
        if not self.remote:
            return sum(1 for _ in (Path(self.where) / LOG_DIR).iterdir())
        return sum(1 for rel in self.sizes() if rel.startswith(f"{LOG_DIR}/"))


def _compact(table: DeltaTable, policy: MaintenanceConfig, dry_run: bool) -> Compaction:
    sizes = pa.table(table.get_add_actions(flatten=True)).column("size_bytes").to_pylist()
    small = sum(1 for size in sizes if size < policy.target_file_size)
    before = len(sizes)
    if small < policy.min_files_to_compact:
        reason = f"{small} small file(s), fewer than min_files_to_compact = "
        return Compaction(
            files_before=before,
            small_files=small,
            skipped=reason + str(policy.min_files_to_compact),
        )
    if dry_run:
        return Compaction(files_before=before, small_files=small, skipped="dry run")
    table.optimize.compact(target_size=policy.target_file_size)
    return Compaction(
        files_before=before,
        small_files=small,
        files_after=len(table.file_uris()),
        version=table.version(),
    )


def _unreadable_pins(where: _Location, versions: Iterable[int]) -> list[str]:
    problems = []
    for version in versions:
        try:
            where.table(version)
        except DeltaError as exc:
            problems.append(f"{version} ({str(exc).splitlines()[0]})")
    return problems


def _vacuum(
    table: DeltaTable,
    where: _Location,
    pins: tuple[Pin, ...],
    policy: MaintenanceConfig,
    dry_run: bool,
) -> Vacuum:
    latest = table.version()
    retention = policy.vacuum_retention_hours
    too_new = sorted({p.version for p in pins if p.version > latest})
    if too_new:
        return Vacuum(
            retention_hours=retention,
            skipped=f"pinned version(s) {too_new} are newer than the table's latest {latest}: "
            "the table was recreated after the run; not vacuumed",
        )
    keep = keep_versions(pins, latest)
    # The pins themselves, not every version of a cursor's range: the log is contiguous.
    unreadable = _unreadable_pins(where, sorted({max(p.version, 0) for p in pins}))
    if unreadable:
        return Vacuum(
            retention_hours=retention,
            kept_versions=keep,
            skipped=f"pinned version(s) cannot be loaded: {', '.join(unreadable)}; not vacuumed",
        )

    def run(dry: bool) -> list[str]:
        return table.vacuum(
            retention_hours=retention,
            dry_run=dry,
            # The policy's retention may be below the table's 168 h: the pins are kept by
            # version, not by age.
            enforce_retention_duration=False,
            keep_versions=list(keep) or None,
        )

    listed = run(True)
    on_store = where.sizes() if listed else {}
    sizes = {name: on_store.get(where.relative(name), 0) for name in listed}
    deleted = listed if dry_run else run(False)
    return Vacuum(
        files=len(deleted),
        bytes=sum(sizes.get(name, 0) for name in deleted),
        retention_hours=retention,
        kept_versions=keep,
    )


class _LastCheckpoint(msgspec.Struct):
    version: int


def last_checkpoint(uri: Path | str, options: Mapping[str, str] | None = None) -> int | None:
    """The version of the newest checkpoint (``_delta_log/_last_checkpoint``), if any."""
    data = _Location(uri, options).read(f"{LOG_DIR}/_last_checkpoint")
    if data is None:
        return None
    try:
        return msgspec.json.decode(data, type=_LastCheckpoint).version
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None


def _checkpoint(
    table: DeltaTable,
    where: _Location,
    pins: tuple[Pin, ...],
    policy: MaintenanceConfig,
    dry_run: bool,
) -> Checkpoint:
    latest = table.version()
    previous = last_checkpoint(where.where, where.options)
    since = latest - (previous if previous is not None else -1)
    if previous == latest or since < policy.checkpoint_interval:
        return Checkpoint(
            previous=previous,
            skipped=f"{since} commit(s) since the last checkpoint, fewer than "
            f"checkpoint_interval = {policy.checkpoint_interval}",
            cleanup_skipped="no new checkpoint",
        )
    if dry_run:
        return Checkpoint(previous=previous, skipped="dry run", cleanup_skipped="dry run")
    table.create_checkpoint()
    # Log cleanup deletes expired entries before the newest checkpoint: a version pinned before
    # it could then no longer be loaded.
    older = sorted({p.version for p in pins if p.version < latest})
    if older:
        return Checkpoint(
            version=latest,
            previous=previous,
            cleanup_skipped=f"pinned version(s) {older} precede the checkpoint {latest}: "
            "their log is kept",
        )
    count = where.log_files()
    table.cleanup_metadata()
    removed = count - where.log_files()
    return Checkpoint(version=latest, previous=previous, log_files_removed=removed)


def maintain_table(
    uri: Path | str,
    policy: MaintenanceConfig,
    pins: tuple[Pin, ...] = (),
    *,
    dry_run: bool = False,
    root: Path | None = None,
    storage_options: Mapping[str, str] | None = None,
) -> TableMaintenance:
    """Compact, vacuum (keeping every pinned version readable) and checkpoint one table: a
    local folder, or an ``s3://`` URI with ``storage_options``.

    A Delta error is recorded in the result (``error``), not raised: the other tables of a
    run folder are still maintained.
    """
    where = _Location(uri, storage_options)
    path = relative_to(uri, root) if root is not None and isinstance(uri, Path) else where.text
    version_before = -1
    try:
        table = where.table()
        version_before = table.version()
        compaction = _compact(table, policy, dry_run)
        vacuum = _vacuum(table, where, pins, policy, dry_run)
        checkpoint = _checkpoint(table, where, pins, policy, dry_run)
        return TableMaintenance(
            path=path,
            version_before=version_before,
            version_after=where.table().version(),
            pins=pins,
            compaction=compaction,
            vacuum=vacuum,
            checkpoint=checkpoint,
        )
    except (DeltaError, OSError) as exc:
        return TableMaintenance(
            path=path,
            version_before=version_before,
            version_after=version_before,
            pins=pins,
            error=f"{type(exc).__name__}: {exc}",
        )


def maintain_run(
    run_dir: Path, policy: MaintenanceConfig, *, dry_run: bool = False
) -> MaintenanceReport:
    """Maintain every Delta table at or below ``run_dir`` (a run folder, a shadow folder, a
    stage folder, one table), honouring every pin of the runs that hold them (:func:`pin_root`).

    UsageError ``NO_DELTA_TABLE`` when there is none (a vacuous maintenance never passes);
    ``PINS_UNREADABLE`` when a run.json or the cursor file cannot be read.
    """
    root = run_dir.resolve()
    tables = find_tables(root)
    if not tables:
        raise UsageError(NO_DELTA_TABLE, f"{run_dir}: no Delta table at or below this folder")
    pins = collect_pins(pin_root(root), shown_from=root)
    results = tuple(
        maintain_table(t, policy, pins.get(t.resolve(), ()), dry_run=dry_run, root=root)
        for t in tables
    )
    return MaintenanceReport(root=str(root), dry_run=dry_run, policy=policy, tables=results)


def maintain_path(
    path: Path, policy: MaintenanceConfig, *, dry_run: bool = False
) -> MaintenanceReport:
    """``codeanatomy maintain PATH``: a run folder, a shadow folder, or one Delta table.

    A table or a folder inside a run folder (``RUN/outputs/cpg_nodes``, a side of a shadow
    folder) keeps the pins of the runs above it, so maintaining it alone never deletes what
    they pin.
    """
    if not path.exists():
        raise UsageError(MAINTAIN_PATH_MISSING, f"{path} does not exist")
    if not path.is_dir():
        raise UsageError(NO_DELTA_TABLE, f"{path} is a file, not a run folder or a Delta table")
    return maintain_run(path, policy, dry_run=dry_run)


def maintain_history(
    history: Path | str,
    policy: MaintenanceConfig,
    storage_options: Mapping[str, str] | None = None,
) -> TableMaintenance | None:
    """Maintain the parity history once it holds more than ``history_max_files`` data files
    (call it after :func:`harness.gates.history.append_history`); None when not due.

    A history in a bucket (``s3://``, with ``storage_options``) is maintained in place. Many
    writers may append to it meanwhile: compaction commits with delta-rs's conflict checks (a
    concurrent blind append does not conflict with it), and vacuum only deletes files removed
    longer ago than the policy's retention (168 h by default), which a reader of the newest
    version never reads."""
    if is_uri(history):
        where = _Location(history, storage_options)
        if not any(rel.startswith(f"{LOG_DIR}/") for rel in where.sizes()):
            return None
        if len(where.table().file_uris()) <= policy.history_max_files:
            return None
        return maintain_table(str(history), policy, storage_options=storage_options)
    history = Path(history)
    if not is_delta_table(history):
        return None
    if len(DeltaTable(str(history)).file_uris()) <= policy.history_max_files:
        return None
    return maintain_table(history.resolve(), policy, root=history.resolve())
