"""Keyed row diff computed in DataFusion over the two Delta tables (never row by row in Python).

Both tables are registered as Delta providers pinned to their versions; one full outer join on
the primary key yields added, removed and changed rows, per-column mismatch counts (null-safe,
with numeric tolerances) and a bounded, key-ordered sample. Duplicate keys on either side are
counted separately: they break the contract's primary key (an ID collision).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.compute as pc
from deltalake import DeltaTable

from harness.compare.model import RowDiff

if TYPE_CHECKING:
    import datafusion

#: Value normalizers a policy may apply to a column on both sides before comparing.
NORMALIZERS: dict[str, str] = {
    "lower": "text lower-cased",
    "strip": "leading and trailing whitespace removed",
    "collapse_whitespace": "every run of whitespace made one space",
    "posix_path": "backslashes made forward slashes",
    "round:N": "floats rounded to N decimals (N = 0..15)",
}


def check_normalizer(name: str) -> str | None:
    """Why ``name`` is not a normalizer (None when it is one)."""
    if name in NORMALIZERS and name != "round:N":
        return None
    if name.startswith("round:") and name[6:].isdigit() and int(name[6:]) <= 15:
        return None
    return f"unknown normalizer {name!r} (known: {', '.join(NORMALIZERS)})"


def _normalized(values: pa.ChunkedArray, name: str) -> pa.ChunkedArray:
    if name.startswith("round:"):
        rounded: pa.ChunkedArray = pc.round(values, int(name[6:]))
        return rounded
    text = values.cast(pa.string()) if pa.types.is_string_view(values.type) else values
    if name == "lower":
        result = pc.utf8_lower(text)
    elif name == "strip":
        result = pc.utf8_trim_whitespace(text)
    elif name == "collapse_whitespace":
        result = pc.replace_substring_regex(text, r"\s+", " ")
    else:  # posix_path
        result = pc.replace_substring(text, "\\", "/")
    cast: pa.ChunkedArray = result.cast(values.type)
    return cast


@dataclass(frozen=True)
class ColumnRule:
    """How one column is compared: ignored, or numeric with absolute/relative tolerance, after
    the listed normalizers (``NORMALIZERS``) were applied to both sides."""

    ignore: bool = False
    abs_tol: float = 0.0
    rel_tol: float = 0.0
    normalize: tuple[str, ...] = ()


def normalize_table(table: pa.Table, columns: dict[str, ColumnRule]) -> pa.Table:
    """``table`` with every column's normalizers applied (the table itself when none)."""
    for name, rule in columns.items():
        if rule.normalize and name in table.column_names:
            i = table.schema.get_field_index(name)
            values = table.column(i)
            for normalizer in rule.normalize:
                values = _normalized(values, normalizer)
            table = table.set_column(i, table.schema.field(i), values)
    return table


@dataclass(frozen=True)
class DiffOptions:
    """Per-column rules and the sample size."""

    columns: dict[str, ColumnRule] = field(default_factory=dict)
    sample_rows: int = 20


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _mismatch(column: str, typ: pa.DataType, rule: ColumnRule) -> str:
    a, b = f"a.{_q(column)}", f"b.{_q(column)}"
    distinct = f"({a} IS DISTINCT FROM {b})"
    if (rule.abs_tol or rule.rel_tol) and (pa.types.is_floating(typ) or pa.types.is_integer(typ)):
        bound = f"GREATEST({rule.abs_tol!r}, {rule.rel_tol!r} * GREATEST(ABS({a}), ABS({b})))"
        within = f"(ABS(CAST({a} AS DOUBLE) - CAST({b} AS DOUBLE)) <= {bound})"
        return f"({distinct} AND NOT COALESCE({within}, FALSE))"
    return distinct


def _duplicates(ctx: datafusion.SessionContext, name: str, key: tuple[str, ...]) -> int:
    keys = ", ".join(_q(k) for k in key)
    sql = (
        f"SELECT COUNT(*) AS n FROM (SELECT {keys} FROM {name} GROUP BY {keys} HAVING COUNT(*) > 1)"
    )
    return int(ctx.sql(sql).to_arrow_table().column("n")[0].as_py())


def keyed_diff(
    primary: DeltaTable | pa.Table,
    candidate: DeltaTable | pa.Table,
    key: tuple[str, ...],
    schema: pa.Schema,
    options: DiffOptions | None = None,
) -> RowDiff:
    """Diff two tables sharing ``schema`` on ``key`` (the contract's primary key): Delta
    tables, or Arrow tables (already normalized by the policy)."""
    # Imported here: datafusion loads pandas (about a second on a cold disk), and only a keyed
    # diff (fingerprints that differ) needs it, never a build.
    import datafusion

    options = options or DiffOptions()
    ctx = datafusion.SessionContext()
    for name, table in (("a", primary), ("b", candidate)):
        if isinstance(table, pa.Table):
            ctx.register_record_batches(name, [table.to_batches()])
        else:
            ctx.register_table(name, table)
    # Parenthesized: sqlparser binds AND tighter than IS NOT DISTINCT FROM, so without them
    # `a.x IS NOT DISTINCT FROM b.x AND a.y ...` reads as `a.x IS NOT DISTINCT FROM (b.x AND a.y)`.
    on = " AND ".join(f"(a.{_q(k)} IS NOT DISTINCT FROM b.{_q(k)})" for k in key)
    values = [
        f
        for f in schema
        if f.name not in key and not options.columns.get(f.name, ColumnRule()).ignore
    ]
    rule = options.columns.get
    flags = [
        f"{_mismatch(f.name, f.type, rule(f.name, ColumnRule()))} AS {_q('d:' + f.name)}"
        for f in values
    ]
    side = (
        "CASE WHEN a.__present IS NULL THEN 'added' "
        "WHEN b.__present IS NULL THEN 'removed' ELSE 'changed' END"
    )
    key_cols = ", ".join(f"COALESCE(a.{_q(k)}, b.{_q(k)}) AS {_q(k)}" for k in key)
    any_diff = " OR ".join(_q("d:" + f.name) for f in values) or "FALSE"
    select_flags = (", " + ", ".join(flags)) if flags else ""
    joined = (
        f"SELECT {side} AS change, {key_cols}{select_flags} "
        f"FROM (SELECT *, TRUE AS __present FROM a) a "
        f"FULL OUTER JOIN (SELECT *, TRUE AS __present FROM b) b ON {on}"
    )
    ctx.register_view("j", ctx.sql(joined))
    differing = f"SELECT * FROM j WHERE change <> 'changed' OR ({any_diff})"
    # Materialized once: the counts and the samples both read it, and it holds only the rows
    # that differ, so the full outer join runs once.
    ctx.register_view("d", ctx.sql(differing).cache())
    sums = ", ".join(
        f"SUM(CASE WHEN change = 'changed' AND {_q('d:' + f.name)} THEN 1 ELSE 0 END) "
        f"AS {_q(f.name)}"
        for f in values
    )
    counts_sql = (
        "SELECT SUM(CASE WHEN change = 'added' THEN 1 ELSE 0 END) AS added, "
        "SUM(CASE WHEN change = 'removed' THEN 1 ELSE 0 END) AS removed, "
        "SUM(CASE WHEN change = 'changed' THEN 1 ELSE 0 END) AS changed"
        + (", " + sums if sums else "")
        + " FROM d"
    )
    counts = ctx.sql(counts_sql).to_arrow_table().to_pylist()[0]
    order = ", ".join(_q(k) for k in key)
    sample_sql = f"SELECT * FROM d ORDER BY change, {order} LIMIT {int(options.sample_rows)}"
    samples = []
    for row in ctx.sql(sample_sql).to_arrow_table().to_pylist():
        changed_columns = sorted(k[2:] for k, v in row.items() if k.startswith("d:") and v)
        sample: dict[str, object] = {"change": row["change"]}
        sample.update({k: row[k] for k in key})
        if row["change"] == "changed":
            sample["columns"] = changed_columns
        samples.append(sample)
    return RowDiff(
        key=key,
        added=int(counts["added"] or 0),
        removed=int(counts["removed"] or 0),
        changed=int(counts["changed"] or 0),
        column_mismatches={f.name: int(counts[f.name] or 0) for f in values if counts[f.name]},
        duplicate_keys_primary=_duplicates(ctx, "a", key),
        duplicate_keys_candidate=_duplicates(ctx, "b", key),
        samples=tuple(samples),
    )
