"""What a backend returns: the run result and the plan report (both backends, one shape).

The Rust engine returns these as JSON (decoded with :func:`decode_run_result` /
:func:`decode_plan_report`); the legacy backend builds them directly. The harness writes them
into ``run.json`` and compares them across backends, matching on codes, never on messages.
"""

from __future__ import annotations

import msgspec


class RunWarning(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """A structured warning raised while computing the semantics (codes from codes.py)."""

    code: str
    severity: str
    stage: str
    message: str
    context: str | None = None


class OutputInfo(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """One committed output table."""

    table: str
    uri: str
    delta_version: int
    rows: int
    schema_hash: str


class OperatorMetric(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """Rows produced and time spent by one operator (Rust: physical plan node; legacy: view)."""

    view: str
    operator: str
    rows: int
    elapsed_ms: float


class RunResult(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """The result of one semantic run: outputs, warnings, metrics and timings in seconds."""

    backend: str
    engine_version: str
    spec_hash: str
    outputs: tuple[OutputInfo, ...]
    warnings: tuple[RunWarning, ...] = ()
    metrics: tuple[OperatorMetric, ...] = ()
    view_rows: dict[str, int] = {}
    timings: dict[str, float] = {}


class ViewCheck(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """Tier 3: one view's planned schema checked against the contract."""

    view: str
    schema_ok: bool
    expected_schema: str
    actual_schema: str
    logical_plan: str | None = None
    physical_plan: str | None = None


class PlanReport(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """Plan introspection (DESIGN §6). Tier 1: spec hash, outputs, graph summary; tier 2 adds
    the view dependency edges and schedule groups; tier 3 adds validation envelopes."""

    backend: str
    tier: int
    spec_hash: str
    outputs: tuple[str, ...]
    graph: dict[str, int]
    edges: tuple[tuple[str, str], ...] | None = None
    schedule: tuple[tuple[str, ...], ...] | None = None
    validation: tuple[ViewCheck, ...] | None = None


def decode_run_result(data: bytes | str) -> RunResult:
    """Decode a RunResult from JSON (strict: unknown fields are an error)."""
    return msgspec.json.decode(data, type=RunResult)


def decode_plan_report(data: bytes | str) -> PlanReport:
    """Decode a PlanReport from JSON (strict: unknown fields are an error)."""
    return msgspec.json.decode(data, type=PlanReport)
