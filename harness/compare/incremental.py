"""An incremental build compared with a build from scratch (issue 14 part 4): the comparison
``codeanatomy gate incremental`` runs after each scripted edit and ``shadow --incremental``
runs on each side, judged by the parity Result.

The incremental run (a run folder updated from its previous state, caches warm) and the fresh
one (a new folder, no cache) are compared stage by stage (evidence, views, outputs) with the
harness's table comparison and judged with :data:`INCREMENTAL_POLICY`: strict, as both runs
come from the same engine. Any difference fails, naming the table and its first differing
keys; a comparison over nothing fails. The one exception is the difference CONTRACT §5.7
allows a rebuild from the per-file scip cache (external ``local N`` symbol rows), recognised row
by row (:func:`scip_cache_exception`) and named in the verdict.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from pathlib import Path

import msgspec
import pyarrow as pa

from backends.extract.delta import read_table
from harness.compare.model import TableSide
from harness.compare.policy import ColumnPolicy, ParityPolicy, TablePolicy
from harness.compare.result import Result, judge
from harness.compare.runs import STAGES, RunComparison, compare_runs
from harness.run.manifest import read_manifest

ACCEPTED_CODES: frozenset[str] = frozenset({"MANIFEST_DIFFERS"})
"""Findings that do not fail a step: ``run.json`` of an incremental build differs from a fresh
one by construction (Delta versions before/after, timings, cache counters). Every other
finding, of any severity, is a difference between the two builds (warnings, drift, tables)."""
INCREMENTAL_POLICY = ParityPolicy(
    tables={"evidence_summary": TablePolicy(columns={"delta_version": ColumnPolicy(ignore=True)})}
)
"""The comparison policy of a step: strict (no tolerance, no allow-list: both sides run the
same engine), except ``evidence_summary.delta_version``, the Delta version of each evidence
table the semantic stage read. It names a version, not content: a fresh build reads version 0,
an incremental one a later version of the same table, by construction (measured: the only
column that differs on the golden repo). The rows and counts beside it are compared."""
MAX_KEYS = 3
"""Differing keys named per table in a step's detail."""


class TableDifference(msgspec.Struct, frozen=True, kw_only=True):
    """A finding of a step that fails it: where, what, and the first differing keys."""

    code: str
    stage: str
    table: str
    message: str
    keys: tuple[dict[str, object], ...] = ()


class StepRecord(msgspec.Struct, frozen=True, kw_only=True):
    """One step of the sequence, as the gate's evidence records it."""

    step: str
    kind: str
    description: str
    status: str
    """``pass``, ``fail``, ``error``, ``skipped`` (the edit cannot apply) or ``not_run`` (an
    earlier step failed); in a shadow run (``shadow --incremental``), ``not_evaluated``: the
    side had no previous build to update, or it failed."""
    detail: str
    incremental: str | None = None
    fresh: str | None = None
    compared: dict[str, int] = {}
    """Per stage, the tables compared."""
    rows: int = 0
    differences: tuple[TableDifference, ...] = ()
    exception: str | None = None
    """The contract exception that explains every difference of a passing step."""
    result: Result | None = None


def step_differences(
    result: Result, keys: dict[tuple[str, str], tuple[dict[str, object], ...]]
) -> list[TableDifference]:
    """The findings that fail a step: every one not in :data:`ACCEPTED_CODES` and not ok."""
    return [
        TableDifference(
            code=f.code,
            stage=f.stage,
            table=f.table,
            message=f.message,
            keys=keys.get((f.stage, f.table), ()),
        )
        for f in result.findings
        if f.code not in ACCEPTED_CODES and f.severity != "ok"
    ]


def _key_text(sample: dict[str, object]) -> str:
    change = sample.get("change", "?")
    parts = [f"{k}={v!r}" for k, v in sample.items() if k not in ("change", "columns")]
    return f"{change} " + ",".join(parts)


def compare_step(
    inc: Path, fresh: Path, subject: str
) -> tuple[Result, dict[str, int], list[TableDifference], str | None]:
    """Compare the incremental run ``inc`` with the fresh run ``fresh`` (the reference, as the
    primary) and judge them with :data:`INCREMENTAL_POLICY`; returns the Result, the tables
    compared per stage, the differences, and the contract exception that explains all of
    them (:func:`scip_cache_exception`; None: the differences fail the step)."""
    comparison = compare_runs(fresh, inc, INCREMENTAL_POLICY.rules())
    manifests = [
        read_manifest(run / "run.json") if (run / "run.json").is_file() else None
        for run in (fresh, inc)
    ]
    result = judge(
        subject=subject,
        comparison=comparison,
        primary=manifests[0],
        candidate=manifests[1],
        policy=INCREMENTAL_POLICY,
    )
    keys = {
        (v.stage, v.table): v.diff.samples[:MAX_KEYS]
        for v in comparison.tables
        if v.diff is not None and v.diff.samples
    }
    compared = dict.fromkeys(STAGES, 0)
    for t in result.coverage.tables:
        compared[t.stage] = compared.get(t.stage, 0) + int(t.compared)
    differences = step_differences(result, keys)
    return result, compared, differences, scip_cache_exception(comparison, differences)


def step_record(
    step: str,
    kind: str,
    description: str,
    runs: tuple[Path, Path],
    compared_step: tuple[Result, dict[str, int], list[TableDifference], str | None],
) -> StepRecord:
    """The verdict on one comparison of an incremental run with a fresh one (``runs``, in that
    order; ``compared_step`` is what :func:`compare_step` returned for them): ``pass`` when
    identical, or identical but for the contract exception; ``fail`` when anything else
    differs, or when no table was compared (a comparison over nothing is never a pass)."""
    result, compared, differences, exception = compared_step
    total = sum(compared.values())
    stages = ", ".join(f"{s} {n}" for s, n in compared.items())
    rows = result.coverage.primary_rows
    if not total:
        status, detail = "fail", "no table was compared: a comparison over nothing"
    elif differences and exception is None:
        status, detail = "fail", "differs: " + describe_differences(differences)
    elif differences:
        status = "pass"
        detail = f"identical but for {exception}: {total} tables compared ({stages})"
    else:
        status = "pass"
        detail = f"identical: {total} tables compared ({stages}), {rows} rows"
    return StepRecord(
        step=step,
        kind=kind,
        description=description,
        status=status,
        detail=detail,
        incremental=str(runs[0]),
        fresh=str(runs[1]),
        compared=compared,
        rows=rows,
        differences=tuple(differences),
        exception=exception if differences else None,
        result=result,
    )


SCIP_LOCAL = "local "
EXCEPTION_TABLES: frozenset[tuple[str, str]] = frozenset(
    {("evidence", "scip"), ("views", "evidence_summary"), ("outputs", "evidence_summary")}
)


def _side_table(side: TableSide | None) -> pa.Table | None:
    if side is None or side.delta_version is None:
        return None
    return read_table(Path(side.uri), side.delta_version)


def _unordered(table: pa.Table) -> Counter[tuple[tuple[str, object], ...]]:
    """The rows of a scip table as a multiset, without their ``ordinal`` (a row less or more
    renumbers the rows after it)."""
    return Counter(
        tuple((k, v) for k, v in sorted(row.items()) if k != "ordinal") for row in table.to_pylist()
    )


def _external_local(row: tuple[tuple[str, object], ...]) -> bool:
    values = dict(row)
    symbol = values.get("symbol")
    return (
        values.get("kind") == "symbol"
        and values.get("path") is None
        and isinstance(symbol, str)
        and symbol.startswith(SCIP_LOCAL)
    )


def scip_cache_exception(
    comparison: RunComparison, differences: list[TableDifference]
) -> str | None:
    """Why the step's differences are the one CONTRACT §5.7 allows a rebuild from the per-file
    scip cache (an external ``local N`` symbol row, documented by whichever document emitted it
    first, present on one side only), or None when anything else differs.

    Allowed only when the differing tables are the scip evidence and the scip row of
    ``evidence_summary``, every scip row present on one side only is such a row, and the
    summary's scip row differs only in its row count, which is each side's own."""
    if not differences or any(d.code != "TABLE_DIFFERS" for d in differences):
        return None
    where = {(d.stage, d.table) for d in differences}
    if ("evidence", "scip") not in where or not where <= EXCEPTION_TABLES:
        return None
    verdicts = {(v.stage, v.table): v for v in comparison.tables}
    scip = verdicts[("evidence", "scip")]
    fresh, inc = _side_table(scip.primary), _side_table(scip.candidate)
    if fresh is None or inc is None:
        return None
    a, b = _unordered(fresh), _unordered(inc)
    only_fresh, only_inc = a - b, b - a
    if not all(_external_local(r) for r in (*only_fresh, *only_inc)):
        return None
    for stage in ("views", "outputs"):
        verdict = verdicts.get((stage, "evidence_summary"))
        if (stage, "evidence_summary") not in where or verdict is None:
            continue
        left, right = _side_table(verdict.primary), _side_table(verdict.candidate)
        if left is None or right is None:
            return None
        rows = [
            {r["source"]: r for r in t.drop_columns(["delta_version"]).to_pylist()}
            for t in (left, right)
        ]
        if rows[0].keys() != rows[1].keys():
            return None
        for source, first in rows[0].items():
            second = rows[1][source]
            if source == "scip":
                same = {k: v for k, v in first.items() if k != "rows"} == {
                    k: v for k, v in second.items() if k != "rows"
                }
                if not same or (first["rows"], second["rows"]) != (
                    fresh.num_rows,
                    inc.num_rows,
                ):
                    return None
            elif first != second:
                return None
    return (
        f"CONTRACT §5.7 (per-file scip cache): only external `local N` scip symbol rows "
        f"differ ({sum(only_fresh.values())} in the fresh build only, "
        f"{sum(only_inc.values())} in the incremental one) and the scip row count in "
        "evidence_summary"
    )


def describe_differences(differences: Iterable[TableDifference]) -> str:
    parts = []
    for d in differences:
        where = f"{d.stage}/{d.table}" if d.stage != "-" else d.code
        keys = "; first keys: " + " | ".join(_key_text(k) for k in d.keys) if d.keys else ""
        parts.append(f"{where} [{d.code}] {d.message}{keys}")
    return "; ".join(parts)
