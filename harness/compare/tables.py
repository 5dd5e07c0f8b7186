"""Compare one table of two runs, cheapest check first (DESIGN §7).

schema -> row count -> fingerprint -> (only when fingerprints differ) keyed row diff.
A missing table or a schema break is sev1; a row count beyond the tolerance is sev1; any other
content difference is sev2; duplicate primary keys (an ID collision) are sev1.

A table pinned to a version it no longer has is not a verdict but an error
(:class:`~harness.errors.PinnedVersionMissing`): comparing another version would pass or
fail on data the run never had.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
from deltalake import DeltaTable
from deltalake.exceptions import DeltaError

from backends.contract.fingerprint import fingerprint
from harness.adapters import hand_over_the_fingerprint_kernel
from harness.compare.diff import DiffOptions, keyed_diff, normalize_table
from harness.compare.model import ParitySeverity, TableSide, TableVerdict, worst
from harness.compare.schema import schema_differences
from harness.errors import EngineFailure, PinnedVersionMissing

_ANSI = re.compile(r"\x1b\[[0-9;]*m")

# Comparing two runs on their own (no build in this process) fingerprints whole tables too:
# hash them with the engine's kernel when it is built (CONTRACT §14, same values).
hand_over_the_fingerprint_kernel()


@dataclass(frozen=True)
class TableRules:
    """What the parity policy says about one table."""

    diff: DiffOptions = field(default_factory=DiffOptions)
    row_count_tolerance: float = 0.0
    """Relative row-count difference above which the mismatch is sev1 (0: any difference)."""


@dataclass(frozen=True)
class TableRef:
    """A Delta table of one run, pinned to a version (None: the latest)."""

    uri: Path
    version: int | None = None


def latest_version(uri: Path) -> int | None:
    """The newest committed version of the Delta table at ``uri`` (None: no readable table)."""
    if not (uri / "_delta_log").is_dir():
        return None
    try:
        return int(DeltaTable(str(uri)).version())
    except (DeltaError, OSError):
        return None


def _open(ref: TableRef | None) -> tuple[DeltaTable | None, pa.Table | None]:
    """The table of ``ref`` at its version; (None, None) when there is no table at all.

    Raises PinnedVersionMissing when the table exists but its pinned version cannot be read:
    beyond the log, its log entry removed, or its data files vacuumed.
    """
    if ref is None or not (ref.uri / "_delta_log").is_dir():
        return None, None
    if ref.version is None:
        dt = DeltaTable(str(ref.uri))
        return dt, _read(dt, ref)
    latest = latest_version(ref.uri)
    if latest is None:
        raise EngineFailure(
            "harness",
            "DELTA_LOG_CORRUPT",
            "register",
            f"{ref.uri}: the Delta log cannot be read",
            {"uri": str(ref.uri), "delta_version": ref.version},
        )
    if not 0 <= ref.version <= latest:
        raise PinnedVersionMissing(str(ref.uri), ref.version, latest, "not in the Delta log")
    try:
        dt = DeltaTable(str(ref.uri), version=ref.version)
        return dt, _read(dt, ref)
    except (DeltaError, OSError) as exc:
        # A log entry removed by log cleanup, or data files removed by vacuum.
        reason = _ANSI.sub("", str(exc)).strip()  # delta-rs colours parts of its messages
        raise PinnedVersionMissing(str(ref.uri), ref.version, latest, reason) from exc


def _read(dt: DeltaTable, ref: TableRef) -> pa.Table:
    """The rows of ``dt``; EngineFailure ``DELTA_DATA_CORRUPT`` when a data file the log
    names is there but is not Parquet (truncated, overwritten) or not a regular file (a FIFO
    would block the read forever)."""

    def corrupt(reason: str) -> EngineFailure:
        return EngineFailure(
            "harness",
            "DELTA_DATA_CORRUPT",
            "register",
            f"{ref.uri}: a data file of version {dt.version()} {reason}",
            {"uri": str(ref.uri), "delta_version": dt.version()},
        )

    for uri in dt.file_uris():
        path = Path(uri.removeprefix("file://"))
        if path.is_absolute() and path.exists() and not path.is_file():
            raise corrupt(f"is not a regular file: {path}")
    try:
        return pa.table(dt.to_pyarrow_table())
    except pa.ArrowInvalid as exc:  # a missing file is an OSError: DELTA_VERSION_MISSING
        raise corrupt("is not readable Parquet: " + _ANSI.sub("", str(exc)).strip()) from exc


def _side(ref: TableRef, dt: DeltaTable | None, table: pa.Table | None) -> TableSide:
    return TableSide(
        uri=str(ref.uri),
        delta_version=None if dt is None else int(dt.version()),
        rows=None if table is None else table.num_rows,
        fingerprint=None if table is None else fingerprint(table),
    )


def _drop(table: pa.Table, rules: TableRules) -> pa.Table:
    ignored = [c for c, r in rules.diff.columns.items() if r.ignore and c in table.column_names]
    return table.drop_columns(ignored) if ignored else table


def compare_table(
    stage: str,
    name: str,
    key: tuple[str, ...],
    primary: TableRef | None,
    candidate: TableRef | None,
    rules: TableRules | None = None,
) -> TableVerdict:
    """The verdict for one table; never raises on content (a missing side is a verdict).

    Raises PinnedVersionMissing (an EngineFailure) when a side pins a version its table no
    longer has, and EngineFailure ``DELTA_LOG_CORRUPT`` when a pinned table's log is unreadable.
    """
    rules = rules or TableRules()
    if (
        primary is not None
        and candidate is not None
        and primary.uri.absolute() != candidate.uri.absolute()
        and primary.uri.resolve() == candidate.uri.resolve()
    ):
        # Two runs' own tables that are one folder (a link from one run into the other):
        # comparing the table with itself would pass over nothing.
        return TableVerdict(
            stage=stage,
            table=name,
            severity="sev1",
            reasons=(
                f"both sides are the same table ({candidate.uri} leads to {primary.uri}): "
                "nothing compared",
            ),
            primary=_side(primary, None, None),
            candidate=_side(candidate, None, None),
        )
    dt_a, a = _open(primary)
    dt_b, b = _open(candidate)
    side_a = None if primary is None else _side(primary, dt_a, a)
    side_b = None if candidate is None else _side(candidate, dt_b, b)

    def verdict(severity: ParitySeverity, *reasons: str, **extra: object) -> TableVerdict:
        return TableVerdict(
            stage=stage,
            table=name,
            severity=severity,
            reasons=reasons,
            primary=side_a,
            candidate=side_b,
            **extra,  # type: ignore[arg-type]
        )

    if a is None or b is None or dt_a is None or dt_b is None:
        missing = "primary" if a is None else "candidate"
        if a is None and b is None:
            return verdict("ok", "absent on both sides")
        return verdict("sev1", f"table missing on the {missing} side")
    differences = schema_differences(a.schema, b.schema)
    if differences:
        return verdict("sev1", "schema differs", schema_differences=tuple(differences))
    reasons: list[str] = []
    severity: ParitySeverity = "ok"
    if a.num_rows != b.num_rows:
        base = max(a.num_rows, 1)
        relative = abs(a.num_rows - b.num_rows) / base
        sev: ParitySeverity = "sev1" if relative > rules.row_count_tolerance else "sev2"
        severity = worst(severity, sev)
        reasons.append(f"row count {a.num_rows} != {b.num_rows}")
    columns = rules.diff.columns
    if any(r.normalize for r in columns.values()):
        a, b = normalize_table(a, columns), normalize_table(b, columns)
        left: DeltaTable | pa.Table = a
        right: DeltaTable | pa.Table = b
    else:
        left, right = dt_a, dt_b
    if fingerprint(_drop(a, rules)) == fingerprint(_drop(b, rules)) and not reasons:
        return verdict("ok")
    diff = keyed_diff(left, right, key, a.schema, rules.diff)
    if diff.duplicate_keys_primary or diff.duplicate_keys_candidate:
        severity = worst(severity, "sev1")
        reasons.append(
            f"duplicate keys: primary {diff.duplicate_keys_primary}, "
            f"candidate {diff.duplicate_keys_candidate}"
        )
    if diff.added or diff.removed or diff.changed:
        severity = worst(severity, "sev2")
        reasons.append(f"rows added {diff.added}, removed {diff.removed}, changed {diff.changed}")
    elif not reasons:
        # Fingerprints differ only through values within the policy's tolerances.
        return verdict("ok", "equal within tolerances", diff=diff)
    return verdict(severity, *reasons, diff=diff)
