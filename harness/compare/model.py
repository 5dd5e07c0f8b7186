"""Verdicts of a comparison, as plain immutable values (serialized into parity reports)."""

from __future__ import annotations

from typing import Any, Literal

import msgspec

ParitySeverity = Literal["ok", "sev1", "sev2", "sev3"]
"""How much a parity finding or a table verdict matters: sev1 schema or contract break, missing
output, crash, row count beyond threshold; sev2 content mismatch; sev3 warnings, metrics,
timings (DESIGN §7). Not the contract's ``Severity`` (the level of an engine diagnostic)."""

SEVERITY_ORDER: dict[str, int] = {"ok": 0, "sev3": 1, "sev2": 2, "sev1": 3}


def worst(*severities: ParitySeverity) -> ParitySeverity:
    """The most severe of ``severities`` (``ok`` when none)."""
    result: ParitySeverity = "ok"
    for sev in severities:
        if SEVERITY_ORDER[sev] > SEVERITY_ORDER[result]:
            result = sev
    return result


class SchemaDifference(msgspec.Struct, frozen=True, kw_only=True):
    """One way two schemas differ: missing/extra column, type, nullability or order."""

    kind: Literal["missing_column", "extra_column", "type", "nullability", "order"]
    column: str
    primary: str | None = None
    candidate: str | None = None


class TableSide(msgspec.Struct, frozen=True, kw_only=True):
    """One side of a table comparison, pinned so the verdict can be replayed."""

    uri: str
    delta_version: int | None
    rows: int | None
    fingerprint: str | None


class RowDiff(msgspec.Struct, frozen=True, kw_only=True):
    """The keyed diff: counts, per-column mismatch counts, and bounded samples."""

    key: tuple[str, ...]
    added: int
    removed: int
    changed: int
    column_mismatches: dict[str, int]
    duplicate_keys_primary: int
    duplicate_keys_candidate: int
    samples: tuple[dict[str, Any], ...]


class TableVerdict(msgspec.Struct, frozen=True, kw_only=True):
    """The verdict for one table at one stage."""

    stage: str
    table: str
    severity: ParitySeverity
    reasons: tuple[str, ...]
    primary: TableSide | None
    candidate: TableSide | None
    schema_differences: tuple[SchemaDifference, ...] = ()
    diff: RowDiff | None = None
    allowed: tuple[str, ...] = ()
