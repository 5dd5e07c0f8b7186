"""Writing evidence tables to Delta (one commit per table, overwrite, schema from the contract)."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
from deltalake import DeltaTable, write_deltalake


def write_table(uri: Path, table: pa.Table) -> int:
    """Overwrite the Delta table at ``uri`` with ``table``; return the committed version."""
    uri.parent.mkdir(parents=True, exist_ok=True)
    write_deltalake(str(uri), table, mode="overwrite", schema_mode="overwrite")
    return int(DeltaTable(str(uri)).version())


def read_table(uri: Path, version: int | None = None) -> pa.Table:
    """Read a Delta table (optionally pinned to a version) into Arrow."""
    dt = DeltaTable(str(uri), version=version)
    return pa.table(dt.to_pyarrow_table())
