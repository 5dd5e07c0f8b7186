"""Compare two run directories stage by stage: evidence, then views, then outputs.

Each stage's tables are compared with :func:`compare_table`; the report names the first stage
that diverges (so a difference in the outputs that starts in the evidence is blamed on the
evidence). Warnings are compared by code and count (sev3), and the two ``run.json`` with
deepdiff, volatile paths excluded (sev3; see :mod:`harness.compare.manifests`). Every verdict
carries the Delta versions of both sides, read from each run's ``run.json`` when present.

Each run is read where it is now: ``run.json`` names its tables relative to the run directory
(:func:`~harness.run.manifest.locate`), so a copied run is compared by its own tables and a moved
one still compares. A table with commits newer than the version its run pins is reported as
drift: the run's tables no longer are what the run wrote.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import msgspec

from backends.contract.schemas import EVIDENCE_TABLES, OUTPUT_TABLES
from backends.contract.views import VIEW_CATALOG
from harness.compare.manifests import ManifestDifference, manifest_differences
from harness.compare.model import TableVerdict
from harness.compare.tables import TableRef, TableRules, compare_table, latest_version
from harness.run.manifest import RunManifest, locate, read_manifest
from harness.telemetry import SPAN_COMPARE, span

STAGES: tuple[str, ...] = ("evidence", "views", "outputs")


class WarningDelta(msgspec.Struct, frozen=True, kw_only=True):
    """A warning code whose count differs between the two runs."""

    code: str
    primary: int
    candidate: int


class TableDrift(msgspec.Struct, frozen=True, kw_only=True):
    """A table of one run with Delta commits newer than the version its ``run.json`` pins."""

    side: Literal["primary", "candidate"]
    stage: str
    table: str
    pinned_version: int
    latest_version: int


class RunComparison(msgspec.Struct, frozen=True, kw_only=True):
    """Everything two runs disagree on, table by table (each table's difference classified
    by :func:`compare_table`). What it means, overall, is decided by the parity Result
    (:func:`harness.compare.result.judge`), nowhere else."""

    primary: str
    candidate: str
    tables: tuple[TableVerdict, ...]
    warnings: tuple[WarningDelta, ...]
    manifest: tuple[ManifestDifference, ...] = ()
    drift: tuple[TableDrift, ...] = ()


def _manifest(run: Path) -> RunManifest | None:
    path = run / "run.json"
    return read_manifest(path) if path.is_file() else None


def _pins(manifest: RunManifest | None, run: Path) -> dict[tuple[str, str], TableRef]:
    """Where each evidence and output table of the run found at ``run`` is now, and at which
    version its ``run.json`` pins it."""
    if manifest is None:
        return {}
    pinned = {
        ("evidence", e.table): TableRef(locate(run, "inputs", e), e.delta_version)
        for e in manifest.inputs
    }
    pinned.update(
        {
            ("outputs", o.table): TableRef(locate(run, "outputs", o), o.delta_version)
            for o in manifest.outputs
        }
    )
    return pinned


def _drift(
    side: Literal["primary", "candidate"], pins: dict[tuple[str, str], TableRef]
) -> list[TableDrift]:
    """The pinned tables of one side that have been committed to since the run."""
    found: list[TableDrift] = []
    for (stage, table), ref in sorted(pins.items()):
        latest = latest_version(ref.uri)
        if ref.version is not None and latest is not None and latest > ref.version:
            found.append(
                TableDrift(
                    side=side,
                    stage=stage,
                    table=table,
                    pinned_version=ref.version,
                    latest_version=latest,
                )
            )
    return found


def _tables(stage: str, run_a: Path, run_b: Path) -> list[tuple[str, tuple[str, ...]]]:
    if stage == "evidence":
        return [(n, c.primary_key) for n, c in EVIDENCE_TABLES.items()]
    if stage == "outputs":
        return [(n, c.primary_key) for n, c in OUTPUT_TABLES.items()]
    if not ((run_a / "views").is_dir() and (run_b / "views").is_dir()):
        return []
    return [(n, v.primary_key) for n, v in VIEW_CATALOG.items()]


def compare_runs(
    run_a: Path, run_b: Path, rules: dict[str, TableRules] | None = None
) -> RunComparison:
    """Compare ``run_a`` (primary) with ``run_b`` (candidate)."""
    rules = rules or {}
    man_a, man_b = _manifest(run_a), _manifest(run_b)
    pins_a, pins_b = _pins(man_a, run_a), _pins(man_b, run_b)
    verdicts: list[TableVerdict] = []
    for stage in STAGES:
        for name, key in _tables(stage, run_a, run_b):
            ref_a = pins_a.get((stage, name)) or TableRef(run_a / stage / name)
            ref_b = pins_b.get((stage, name)) or TableRef(run_b / stage / name)
            with span(SPAN_COMPARE, stage=stage, table=name) as current:
                verdict = compare_table(stage, name, key, ref_a, ref_b, rules.get(name))
                current.set_attribute("severity", verdict.severity)
            verdicts.append(verdict)
    drift = (*_drift("primary", pins_a), *_drift("candidate", pins_b))
    warnings = _warning_deltas(man_a, man_b)
    manifest = () if man_a is None or man_b is None else manifest_differences(man_a, man_b)
    return RunComparison(
        primary=str(run_a),
        candidate=str(run_b),
        tables=tuple(verdicts),
        warnings=warnings,
        manifest=manifest,
        drift=drift,
    )


def _warning_deltas(a: RunManifest | None, b: RunManifest | None) -> tuple[WarningDelta, ...]:
    if a is None or b is None:
        return ()
    codes = sorted(set(a.warnings_by_code) | set(b.warnings_by_code))
    return tuple(
        WarningDelta(
            code=c, primary=a.warnings_by_code.get(c, 0), candidate=b.warnings_by_code.get(c, 0)
        )
        for c in codes
        if a.warnings_by_code.get(c, 0) != b.warnings_by_code.get(c, 0)
    )
