"""Incremental Delta writes of the Rust engine (CONTRACT "Incremental writes"), through the facade.

A run into a folder that already holds one commits one MERGE per table holding exactly the
changed rows, or nothing when no row changed; every table has the change data feed on.
"""

from __future__ import annotations

import sys
from pathlib import Path

import msgspec
import pyarrow as pa
import pytest
from deltalake import DeltaTable

from backends import rust
from tests.unit.engine_evidence import workload

ROOT = Path(__file__).parents[2]
_CLI = str(Path(sys.executable).with_name("codeanatomy"))


def _cdf_enabled(uri: Path) -> bool:
    return DeltaTable(str(uri)).metadata().configuration.get("delta.enableChangeDataFeed") == "true"


def test_a_fresh_run_creates_every_table_with_the_change_data_feed(
    evidence: Path, tmp_path: Path
) -> None:
    result, writes = rust.run_with_writes(workload(evidence), tmp_path / "out", tmp_path / "views")
    outputs = [w for w in writes if w.kind == "output"]
    views = [w for w in writes if w.kind == "view"]
    assert [w.name for w in outputs] == [o.table for o in result.outputs]
    assert views, "views_dir was given: every kept view is written"
    for w in writes:
        assert (w.mode, w.version_before, w.delta_version) == ("create", None, 0), w
        assert (w.rows_updated, w.rows_deleted, w.reason) == (0, 0, "")
        assert _cdf_enabled(Path(w.uri))
    for w, info in zip(outputs, result.outputs, strict=True):
        assert w.rows_inserted == info.rows


def test_the_same_run_again_commits_nothing(evidence: Path, tmp_path: Path) -> None:
    spec = workload(evidence)
    rust.run(spec, tmp_path / "out", tmp_path / "views")
    result, writes = rust.run_with_writes(spec, tmp_path / "out", tmp_path / "views")
    assert writes
    for w in writes:
        assert (w.mode, w.version_before, w.delta_version) == ("unchanged", 0, 0), w
        assert (w.rows_inserted, w.rows_updated, w.rows_deleted) == (0, 0, 0)
        assert DeltaTable(w.uri).version() == 0
    assert [o.delta_version for o in result.outputs] == [0] * len(result.outputs)


def test_other_rows_are_one_merge_and_the_change_data_feed_lists_them(
    evidence: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    rust.run(workload(evidence, cpg_nodes="file_nodes"), out)
    before = DeltaTable(str(out / "cpg_nodes")).to_pyarrow_table()
    _, (w,) = rust.run_with_writes(workload(evidence, cpg_nodes="module_nodes"), out)
    after = DeltaTable(str(out / "cpg_nodes")).to_pyarrow_table()
    assert (w.mode, w.version_before, w.delta_version) == ("merge", 0, 1)
    cdf = pa.table(DeltaTable(str(out / "cpg_nodes")).load_cdf(starting_version=1).read_all())
    kinds = cdf.column("_change_type").to_pylist()
    assert set(cdf.column("_commit_version").to_pylist()) == {1}
    assert kinds.count("insert") == w.rows_inserted
    assert kinds.count("delete") == w.rows_deleted
    assert kinds.count("update_postimage") == kinds.count("update_preimage") == w.rows_updated
    old = set(before.column("node_id").to_pylist())
    new = set(after.column("node_id").to_pylist())
    assert w.rows_inserted == len(new - old) and w.rows_deleted == len(old - new)
    assert after.num_rows == before.num_rows + w.rows_inserted - (w.rows_deleted or 0)


def test_a_table_without_the_change_data_feed_is_overwritten_with_it_on(
    evidence: Path, tmp_path: Path
) -> None:
    from deltalake import write_deltalake

    out = tmp_path / "out"
    rust.run(workload(evidence, cpg_nodes="file_nodes"), out)
    uri = out / "cpg_nodes"
    rows = DeltaTable(str(uri)).to_pyarrow_table()
    plain = tmp_path / "plain"
    write_deltalake(str(plain), rows)  # the same rows, no change data feed
    uri.rename(tmp_path / "old")
    plain.rename(uri)
    _, (w,) = rust.run_with_writes(workload(evidence, cpg_nodes="file_nodes"), out)
    assert (w.mode, w.reason, w.version_before) == ("overwrite", "the change data feed was off", 0)
    assert w.delta_version == 2  # version 1 turns the feed on, version 2 overwrites
    assert (w.rows_inserted, w.rows_deleted) == (rows.num_rows, rows.num_rows)
    assert _cdf_enabled(uri)


def test_split_keeps_the_run_result_strict() -> None:
    from backends.rust import _split_run_result

    base = {
        "backend": "rust",
        "engine_version": "x",
        "spec_hash": "h",
        "outputs": [],
        "view_writes": [],
    }
    result, writes = _split_run_result(msgspec.json.encode(base).decode())
    assert (result.outputs, writes) == ((), ())
    entry = {
        "table": "cpg_nodes",
        "uri": "/o/cpg_nodes",
        "delta_version": 3,
        "rows": 5,
        "schema_hash": "s",
        "version_before": 2,
        "mode": "merge",
        "rows_inserted": 1,
        "rows_updated": 2,
        "rows_deleted": 0,
    }
    result, (w,) = _split_run_result(msgspec.json.encode({**base, "outputs": [entry]}).decode())
    assert (result.outputs[0].delta_version, w.version_before, w.mode) == (3, 2, "merge")
    with pytest.raises(msgspec.ValidationError):
        _split_run_result(msgspec.json.encode({**base, "surprise": 1}).decode())
