"""Typed facade over the compiled engine ``backends.rust._engine`` (crate codeanatomy_engine).

The compiled module is private: everything callers need is re-exported here with types and
docstrings. ``ImportError`` from this package means the extension is not built; the gateway
falls back to the legacy backend in that case (DESIGN §8).

Every engine failure raises a subclass of :class:`EngineError` carrying ``.code`` and
``.stage`` (from ``backends.contract.codes.ERROR_CODES``) and ``.context`` (a dict); the
subclass names the stage: :class:`SpecError` (validate), :class:`CompileError`,
:class:`RegisterError`, :class:`PlanError`, :class:`ExecuteError`, :class:`CommitError`,
:class:`InternalError` (including a caught engine panic, code ``INTERNAL_PANIC``).

Tables may live in an object store: a spec input's ``uri``, ``outputs_dir`` and ``views_dir``
may be ``s3://bucket/prefix`` URIs (given as ``str``: a ``Path`` would fold the ``//``).
``storage_options`` (delta-rs/object_store keys such as ``AWS_ENDPOINT_URL``,
``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``, ``AWS_REGION``, ``AWS_ALLOW_HTTP``) reach every
table the call opens on a store and never a local one; without them delta-rs reads the standard
``AWS_*`` environment variables, and given options win over the environment. Unless the options
say otherwise a store request is retried at most twice within 10 s, so an unreachable endpoint
fails in seconds (override with ``max_retries``, ``retry_timeout``, ``connect_timeout``). No
error message or context ever holds an option's value (endpoint, region and flags aside) or the
``AWS_ACCESS_KEY_ID`` / ``AWS_SECRET_ACCESS_KEY`` / ``AWS_SESSION_TOKEN`` variables: they are
replaced by ``[redacted]``. A store that cannot be reached, refuses the credentials or lacks the
bucket is ``INPUT_TABLE_MISSING`` for an input and ``COMMIT_FAILED`` for an output, with the
table's URI and the store's reason in the message and ``context["store_error"]`` one of
``not_found``, ``permission_denied``, ``unauthenticated``, ``unavailable``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import msgspec

from backends.contract.result import (
    OutputInfo,
    PlanReport,
    RunResult,
    decode_plan_report,
    decode_run_result,
)
from backends.contract.spec import SemanticExecutionSpec
from backends.rust import _engine
from backends.rust._engine import (
    CommitError,
    CompileError,
    EngineError,
    ExecuteError,
    InternalError,
    PlanError,
    RegisterError,
    SpecError,
)


def engine_version() -> str:
    """The engine's version, with the DataFusion and delta-rs versions it was built on."""
    return _engine.version()


def spec_hash(spec_json: str) -> str:
    """SHA-256 hex of the RFC 8785 canonical form of a spec JSON document (CONTRACT.md §9).

    Equal to ``backends.contract.spec.spec_hash`` for the same spec.
    Raises ``ValueError`` when the text is not JSON.
    """
    return _engine.spec_hash(spec_json)


def row_hash_sum(table: object, threads: int = 0) -> tuple[int, int]:
    """CONTRACT §14 kernel: ``(rows, sum of XXH64 row hashes mod 2^64)`` of an Arrow table
    (anything exporting ``__arrow_c_stream__``), on ``threads`` threads (0 = one per core).

    Raises ``TypeError`` for a column type §14 does not define. The fingerprint built from it
    is ``backends.contract.fingerprint.fingerprint``.
    """
    return _engine.row_hash_sum(table, threads)


def _spec_json(spec: SemanticExecutionSpec | str) -> str:
    return spec if isinstance(spec, str) else msgspec.json.encode(spec).decode()


WriteMode = Literal["create", "merge", "unchanged", "overwrite"]


class TableWrite(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """How the engine wrote one Delta table (CONTRACT "Incremental writes").

    ``mode``: ``create`` (the table was absent; version 0, change data feed on), ``merge``
    (one MERGE keyed on the contract primary key: the new version holds exactly the changed
    rows), ``unchanged`` (no row differed: nothing committed, ``delta_version`` equals
    ``version_before``) or ``overwrite`` (another schema, no change data feed, or duplicate
    keys in the table; ``reason`` says which, in CONTRACT §15's words). ``rows_deleted`` of an
    overwrite is the replaced version's row count from the Delta file statistics (None when a
    file has none).
    """

    name: str
    kind: Literal["output", "view"]
    uri: str
    delta_version: int
    version_before: int | None
    mode: WriteMode
    rows_inserted: int
    rows_updated: int
    rows_deleted: int | None
    reason: str = ""


# The write fields of an engine result entry; RunResult's OutputInfo does not know them (yet).
_WRITE_FIELDS = (
    "version_before",
    "mode",
    "rows_inserted",
    "rows_updated",
    "rows_deleted",
    "reason",
)


def _table_write(entry: dict[str, Any], name: str, kind: Literal["output", "view"]) -> TableWrite:
    return TableWrite(
        name=entry[name],
        kind=kind,
        uri=entry["uri"],
        delta_version=entry["delta_version"],
        **{f: entry[f] for f in _WRITE_FIELDS if f in entry},
    )


def _split_run_result(text: str) -> tuple[RunResult, tuple[TableWrite, ...]]:
    raw: dict[str, Any] = msgspec.json.decode(text)
    known = set(OutputInfo.__struct_fields__)
    writes = [_table_write(entry, "table", "output") for entry in raw.get("outputs", [])]
    # The write fields the contract's OutputInfo does not carry stay in the TableWrite only.
    for entry in raw.get("outputs", []):
        for f in _WRITE_FIELDS:
            if f not in known:
                entry.pop(f, None)
    writes += [_table_write(entry, "view", "view") for entry in raw.pop("view_writes", [])]
    return decode_run_result(msgspec.json.encode(raw)), tuple(writes)


def _options(storage_options: Mapping[str, str] | None) -> dict[str, str] | None:
    return None if storage_options is None else dict(storage_options)


def run_with_writes(
    spec: SemanticExecutionSpec | str,
    outputs_dir: Path | str,
    views_dir: Path | str | None = None,
    storage_options: Mapping[str, str] | None = None,
) -> tuple[RunResult, tuple[TableWrite, ...]]:
    """:func:`run`, also returning how each Delta table was written: the outputs in spec
    order, then (with ``views_dir``) the views in schedule order."""
    text = _engine.run(
        _spec_json(spec),
        str(outputs_dir),
        None if views_dir is None else str(views_dir),
        _options(storage_options),
    )
    return _split_run_result(text)


def run(
    spec: SemanticExecutionSpec | str,
    outputs_dir: Path | str,
    views_dir: Path | str | None = None,
    storage_options: Mapping[str, str] | None = None,
) -> RunResult:
    """Compute the spec's outputs and commit each to Delta at ``outputs_dir/<table>``.

    With ``views_dir``, every kept view is also written to ``views_dir/<view>``. Each root is a
    local folder or an object-store URI given as ``str`` (``s3://bucket/prefix``; the table is
    then ``<root>/<table>``); ``storage_options`` reach every table on a store, the inputs
    included (see the module doc). Nothing is committed unless every output executed (see the
    engine's atomicity note). Each table is written incrementally (see :class:`TableWrite`;
    :func:`run_with_writes` returns them): a build into a folder that holds one commits only
    the changed rows, or nothing. A spec given as text is passed through unchanged (used to
    test the engine's own validation). Raises an :class:`EngineError` subclass on failure.
    """
    return run_with_writes(spec, outputs_dir, views_dir, storage_options)[0]


def plan(
    spec: SemanticExecutionSpec | str,
    tier: int,
    storage_options: Mapping[str, str] | None = None,
) -> PlanReport:
    """Plan introspection (CONTRACT §12): tier 1 graph counts, tier 2 edges and schedule,
    tier 3 validation envelopes (needs the spec's input tables to exist; inputs on a store
    are opened with ``storage_options``)."""
    return decode_plan_report(_engine.plan(_spec_json(spec), tier, _options(storage_options)))


def schema_string_of(table: str) -> str:
    """The engine's CONTRACT §14 schema string of an evidence table, output table or view.

    Raises ``KeyError`` for an unknown name.
    """
    return _engine.schema_string_of(table)


# Every export of the compiled module and the facade function that wraps it
# (tests/unit/test_rust_facade.py fails when an export has no wrapper).
WRAPPED_EXPORTS: dict[str, str] = {
    "version": "engine_version",
    "spec_hash": "spec_hash",
    "run": "run",
    "plan": "plan",
    "schema_string_of": "schema_string_of",
    "row_hash_sum": "row_hash_sum",
    "EngineError": "EngineError",
    "SpecError": "SpecError",
    "CompileError": "CompileError",
    "RegisterError": "RegisterError",
    "PlanError": "PlanError",
    "ExecuteError": "ExecuteError",
    "CommitError": "CommitError",
    "InternalError": "InternalError",
}

__all__ = [
    "WRAPPED_EXPORTS",
    "CommitError",
    "CompileError",
    "EngineError",
    "ExecuteError",
    "InternalError",
    "PlanError",
    "RegisterError",
    "SpecError",
    "TableWrite",
    "WriteMode",
    "engine_version",
    "plan",
    "row_hash_sum",
    "run",
    "run_with_writes",
    "schema_string_of",
    "spec_hash",
]
