"""The comparison engine on Delta tables made in the test: each corruption gets its severity."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pytest
from deltalake import write_deltalake

from backends.contract.schemas import CPG_EDGES
from harness.compare.diff import ColumnRule, DiffOptions
from harness.compare.tables import TableRef, TableRules, compare_table

KEY = ("edge_id",)


def _edges(n: int = 50) -> pa.Table:
    return pa.Table.from_pylist(
        [
            {
                "edge_id": f"e{i:03d}",
                "kind": "CALLS" if i % 2 else "CONTAINS",
                "src_id": f"s{i}",
                "dst_id": f"d{i}",
                "evidence_source": "lexical",
                "confidence": 0.8,
                "path": None if i % 5 == 0 else f"p{i % 3}.py",
                "bstart": i * 10,
                "bend": i * 10 + 4,
            }
            for i in range(n)
        ],
        schema=CPG_EDGES,
    )


def _write(path: Path, table: pa.Table) -> TableRef:
    write_deltalake(str(path), table, mode="overwrite", schema_mode="overwrite")
    return TableRef(path)


def _set(table: pa.Table, column: str, row: int, value: object) -> pa.Table:
    values = table.column(column).to_pylist()
    values[row] = value
    i = table.schema.get_field_index(column)
    return table.set_column(i, table.schema.field(i), pa.array(values, table.schema.field(i).type))


def _swap_columns(table: pa.Table) -> pa.Table:
    names = table.column_names
    return table.select([names[1], names[0], *names[2:]])


MUTATIONS: dict[str, tuple[Callable[[pa.Table], pa.Table], str]] = {
    "dropped row": (lambda t: t.slice(1), "sev1"),
    "duplicated row": (lambda t: pa.concat_tables([t, t.slice(3, 1)]), "sev1"),
    "changed value": (lambda t: _set(t, "dst_id", 7, "elsewhere"), "sev2"),
    "reversed edge": (
        lambda t: _set(_set(t, "src_id", 4, "d4"), "dst_id", 4, "s4"),
        "sev2",
    ),
    "null introduced": (lambda t: _set(t, "bstart", 9, None), "sev2"),
    "type change": (
        lambda t: t.set_column(5, "confidence", pc.cast(t["confidence"], pa.float32())),
        "sev1",
    ),
    "nullability change": (
        lambda t: t.cast(
            pa.schema([f.with_nullable(f.name != "bstart" and f.nullable) for f in t.schema])
        ),
        "sev1",
    ),
    "renamed column": (lambda t: t.rename_columns([*t.column_names[:-1], "stop"]), "sev1"),
    "reordered columns": (_swap_columns, "sev1"),
    "extra column": (lambda t: t.append_column("extra", pa.array([1] * t.num_rows)), "sev1"),
    "id collision": (lambda t: _set(t, "edge_id", 2, "e001"), "sev1"),
    "empty table": (lambda t: t.slice(0, 0), "sev1"),
    "float beyond tolerance": (lambda t: _set(t, "confidence", 3, 0.9), "sev2"),
}


@pytest.mark.parametrize("name", sorted(MUTATIONS))
def test_each_corruption_is_caught_with_its_severity(tmp_path: Path, name: str) -> None:
    mutate, severity = MUTATIONS[name]
    original = _edges()
    a = _write(tmp_path / "a", original)
    b = _write(tmp_path / "b", mutate(original))
    rules = TableRules(diff=DiffOptions(columns={"confidence": ColumnRule(abs_tol=1e-6)}))
    verdict = compare_table("outputs", "cpg_edges", KEY, a, b, rules)
    assert verdict.severity == severity, verdict.reasons


def test_identical_tables_in_another_order_pass(tmp_path: Path) -> None:
    original = _edges()
    a = _write(tmp_path / "a", original)
    b = _write(tmp_path / "b", original.take(list(reversed(range(original.num_rows)))))
    verdict = compare_table("outputs", "cpg_edges", KEY, a, b)
    assert verdict.severity == "ok"
    assert verdict.diff is None
    assert verdict.primary is not None and verdict.candidate is not None
    assert verdict.primary.fingerprint == verdict.candidate.fingerprint


def test_a_float_within_tolerance_passes(tmp_path: Path) -> None:
    original = _edges()
    a = _write(tmp_path / "a", original)
    b = _write(tmp_path / "b", _set(original, "confidence", 3, 0.8 + 1e-9))
    rules = TableRules(diff=DiffOptions(columns={"confidence": ColumnRule(abs_tol=1e-6)}))
    assert compare_table("outputs", "cpg_edges", KEY, a, b, rules).severity == "ok"
    assert compare_table("outputs", "cpg_edges", KEY, a, b).severity == "sev2"


def test_a_table_linked_to_the_other_sides_table_is_sev1(tmp_path: Path) -> None:
    a = _write(tmp_path / "a", _edges())
    (tmp_path / "b").symlink_to(tmp_path / "a", target_is_directory=True)
    verdict = compare_table("outputs", "cpg_edges", KEY, a, TableRef(tmp_path / "b"))
    assert verdict.severity == "sev1"
    assert "same table" in verdict.reasons[0] and "nothing compared" in verdict.reasons[0]


def test_one_table_named_by_both_sides_is_compared(tmp_path: Path) -> None:
    # Shared evidence in shadow mode: both run.json name the same path. Not a link trick.
    a = _write(tmp_path / "a", _edges())
    assert compare_table("evidence", "cpg_edges", KEY, a, TableRef(tmp_path / "a")).severity == (
        "ok"
    )


def test_a_missing_table_is_sev1(tmp_path: Path) -> None:
    a = _write(tmp_path / "a", _edges())
    verdict = compare_table("outputs", "cpg_edges", KEY, a, TableRef(tmp_path / "nothing"))
    assert verdict.severity == "sev1"
    assert "missing on the candidate side" in verdict.reasons[0]


def test_the_row_diff_counts_and_samples_changes(tmp_path: Path) -> None:
    original = _edges()
    changed = _set(_set(original, "dst_id", 7, "x"), "kind", 8, "REFERENCES")
    mutated = pa.concat_tables([changed.slice(1), changed.slice(0, 0)])
    a = _write(tmp_path / "a", original)
    b = _write(tmp_path / "b", mutated)
    rules = TableRules(row_count_tolerance=0.5)
    verdict = compare_table("outputs", "cpg_edges", KEY, a, b, rules)
    assert verdict.severity == "sev2"
    assert verdict.diff is not None
    assert (verdict.diff.added, verdict.diff.removed, verdict.diff.changed) == (0, 1, 2)
    assert verdict.diff.column_mismatches == {"dst_id": 1, "kind": 1}
    assert [s["change"] for s in verdict.diff.samples] == ["changed", "changed", "removed"]


def test_a_composite_key_with_a_null_part_joins_null_safely(tmp_path: Path) -> None:
    """Multi-column keys (string and integer parts, one part null on some rows): each key
    condition is its own `IS NOT DISTINCT FROM`, so rows pair up and only the real change shows."""
    original = _edges()
    a = _write(tmp_path / "a", original)
    b = _write(tmp_path / "b", _set(original, "confidence", 4, 0.1))
    verdict = compare_table("outputs", "cpg_edges", ("path", "bstart"), a, b, TableRules())
    assert verdict.diff is not None
    assert (verdict.diff.added, verdict.diff.removed, verdict.diff.changed) == (0, 0, 1)
    assert verdict.diff.column_mismatches["confidence"] == 1


def test_normalizers_make_equivalent_values_equal_and_keep_real_changes(tmp_path: Path) -> None:
    """`posix_path` + `lower` on `path`, `round:2` on `confidence`: values equal after the
    normalizers pass; a change the normalizers do not cover still shows in the keyed diff."""
    original = _edges()
    shifted = _set(_set(original, "path", 1, "P1.PY"), "confidence", 2, 0.80001)
    shifted = _set(shifted, "path", 2, "p2\\x.py")
    a = _write(tmp_path / "a", _set(original, "path", 2, "p2/x.py"))
    b = _write(tmp_path / "b", shifted)
    columns = {
        "path": ColumnRule(normalize=("posix_path", "lower")),
        "confidence": ColumnRule(normalize=("round:2",)),
    }
    rules = TableRules(diff=DiffOptions(columns=columns))
    assert compare_table("outputs", "cpg_edges", KEY, a, b, rules).severity == "ok"
    assert compare_table("outputs", "cpg_edges", KEY, a, b, TableRules()).severity == "sev2"
    c = _write(tmp_path / "c", _set(shifted, "dst_id", 3, "moved"))
    verdict = compare_table("outputs", "cpg_edges", KEY, a, c, rules)
    assert verdict.diff is not None
    assert verdict.diff.column_mismatches == {"dst_id": 1}


def test_an_unknown_normalizer_is_a_policy_error(tmp_path: Path) -> None:
    from harness.compare.policy import PolicyError, load_policy

    policy = tmp_path / "parity.toml"
    policy.write_text('version = 1\n[tables.cpg_nodes.columns.name]\nnormalize = ["upper"]\n')
    with pytest.raises(PolicyError, match=r"tables\.cpg_nodes\.columns\.name\.normalize.*upper"):
        load_policy(policy)
    policy.write_text('version = 1\n[tables.cpg_nodes.columns.name]\nnormalize = ["round:3"]\n')
    rules = load_policy(policy).rules()
    assert rules["cpg_nodes"].diff.columns["name"].normalize == ("round:3",)
