"""Reading the spec's inputs: Delta tables pinned to their versions, checked against the contract.

Always through the Delta log (``DeltaTable``): reading a Delta folder as plain parquet would
also read files the log has removed.
"""

from __future__ import annotations

import pyarrow as pa
from deltalake import DeltaTable
from deltalake.exceptions import DeltaError, TableNotFoundError

from backends.contract.fingerprint import schema_string
from backends.contract.schemas import EVIDENCE_TABLES
from backends.contract.spec import DatasetBinding
from backends.legacy.errors import LegacyError


def read_binding(binding: DatasetBinding) -> pa.Table:
    """The table of one binding at its pinned version; LegacyError with a register code."""
    context = {"table": binding.name, "uri": binding.uri, "delta_version": binding.delta_version}
    try:
        latest = DeltaTable(binding.uri)
    except TableNotFoundError as exc:
        raise LegacyError(
            "INPUT_TABLE_MISSING", f"no Delta table at {binding.uri}", context
        ) from exc
    except DeltaError as exc:
        raise LegacyError(
            "DELTA_LOG_CORRUPT", f"{binding.name}: the Delta log cannot be read: {exc}", context
        ) from exc
    if binding.delta_version < 0 or binding.delta_version > latest.version():
        raise LegacyError(
            "DELTA_VERSION_MISSING",
            f"{binding.name}: version {binding.delta_version} not in the log",
            {**context, "latest_version": latest.version()},
        )
    try:
        table = pa.table(DeltaTable(binding.uri, version=binding.delta_version).to_pyarrow_table())
    except DeltaError as exc:
        raise LegacyError(
            "DELTA_VERSION_MISSING", f"{binding.name}: version unreadable: {exc}", context
        ) from exc
    contract = EVIDENCE_TABLES.get(binding.name)
    if contract is not None and not table.schema.equals(contract.schema):
        raise LegacyError(
            "INPUT_SCHEMA_MISMATCH",
            f"{binding.name}: schema differs from the contract",
            {
                **context,
                "expected": schema_string(contract.schema),
                "actual": schema_string(table.schema),
            },
        )
    return table


def read_inputs(
    bindings: tuple[DatasetBinding, ...], names: tuple[str, ...]
) -> dict[str, pa.Table]:
    """The named inputs (the ones the kept views read), each pinned to its version."""
    by_name = {b.name: b for b in bindings}
    return {name: read_binding(by_name[name]) for name in names}
