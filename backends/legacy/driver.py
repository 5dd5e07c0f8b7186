"""``run_semantics``: the legacy backend's semantic run (CONTRACT §9, §12).

rustworkx decides *what* runs and *in which generation*; Hamilton runs each generation's
views (plain functions of the view modules), with the views of earlier generations passed
back as overrides so that every view is materialized once. Outputs are committed only after
every view succeeded: a failure leaves no partial output.
"""

from __future__ import annotations

import time
from importlib.metadata import version
from pathlib import Path
from types import ModuleType
from typing import Any

import pyarrow as pa
from hamilton import driver  # type: ignore[import-untyped]
from hamilton.lifecycle import api  # type: ignore[import-untyped]

from backends.contract.fingerprint import schema_hash, schema_string
from backends.contract.result import OperatorMetric, OutputInfo, RunResult, RunWarning
from backends.contract.schemas import OUTPUT_TABLES
from backends.contract.spec import SemanticExecutionSpec, spec_hash
from backends.contract.views import VIEW_CATALOG
from backends.extract.delta import DeltaWriteError, merge_table
from backends.legacy import cpg, diagnose, normalize, relate, relate_types
from backends.legacy.errors import LegacyError
from backends.legacy.evidence import read_inputs
from backends.legacy.frames import InputVersions, rows
from backends.legacy.schedule import BACKEND, Schedule, build_schedule
from backends.legacy.syntax_index import clear_index_cache

VIEW_MODULES: tuple[ModuleType, ...] = (normalize, diagnose, relate_types, relate, cpg)
ENGINE_VERSION = f"legacy-1+hamilton-{version('apache-hamilton')}+rustworkx-{version('rustworkx')}"


class _NodeTimer(api.NodeExecutionHook):  # type: ignore[misc]
    """Records each Hamilton node's wall time and the first node that failed."""

    def __init__(self) -> None:
        self.started: dict[str, float] = {}
        self.elapsed_ms: dict[str, float] = {}
        self.failed: str | None = None

    def run_before_node_execution(self, *, node_name: str, **future_kwargs: Any) -> None:
        self.started[node_name] = time.perf_counter()

    def run_after_node_execution(
        self, *, node_name: str, success: bool, **future_kwargs: Any
    ) -> None:
        start = self.started.get(node_name, time.perf_counter())
        self.elapsed_ms[node_name] = (time.perf_counter() - start) * 1000.0
        if not success and self.failed is None:
            self.failed = node_name


def _execute(sched: Schedule, inputs: dict[str, Any], timer: _NodeTimer) -> dict[str, pa.Table]:
    dr = driver.Builder().with_modules(*VIEW_MODULES).with_adapters(timer).build()
    computed: dict[str, pa.Table] = {}
    for generation in sched.generations:
        try:
            result = dr.execute(list(generation), inputs=inputs, overrides=dict(computed))
        except LegacyError:
            raise
        except Exception as exc:
            view = timer.failed or ",".join(generation)
            raise LegacyError(
                "EXECUTION_FAILED",
                f"view {view} failed: {type(exc).__name__}: {exc}",
                {"view": view, "error": type(exc).__name__},
            ) from exc
        for name in generation:
            table = result[name]
            expected = VIEW_CATALOG[name].schema
            if not isinstance(table, pa.Table) or not table.schema.equals(expected):
                actual = (
                    schema_string(table.schema)
                    if isinstance(table, pa.Table)
                    else repr(type(table))
                )
                raise LegacyError(
                    "OUTPUT_SCHEMA_MISMATCH",
                    f"view {name} does not have its contract schema",
                    {"view": name, "expected": schema_string(expected), "actual": actual},
                )
            computed[name] = table
    return computed


def _write(uri: Path, table: pa.Table, what: str, key: tuple[str, ...]) -> int:
    """Commit ``table`` at ``uri`` (created, merged on ``key``, or left alone when unchanged:
    CONTRACT "Incremental writes"); the table's version after the write."""
    try:
        return merge_table(uri, table, key).version_after
    except DeltaWriteError as exc:
        raise LegacyError(
            "COMMIT_FAILED",
            f"writing {what} failed: {exc.message}",
            {**exc.context, "table": what, "uri": str(uri), "reason": exc.reason},
        ) from exc
    except Exception as exc:
        raise LegacyError(
            "COMMIT_FAILED", f"writing {what} failed: {exc}", {"table": what, "uri": str(uri)}
        ) from exc


def _warnings(computed: dict[str, pa.Table]) -> tuple[RunWarning, ...]:
    source = computed.get("diagnostics", computed.get("span_conflicts"))
    if source is None:
        return ()
    names = ("code", "severity", "stage", "message", "context")
    return tuple(
        RunWarning(code=code, severity=sev, stage=stage, message=msg, context=ctx)
        for code, sev, stage, msg, ctx in rows(source, names)
        if code.startswith("SEM_")
    )


def run_semantics(
    spec: SemanticExecutionSpec, outputs_dir: Path, *, views_dir: Path | None = None
) -> RunResult:
    """Compute the spec's outputs from its pinned inputs and commit them to Delta.

    Every failure is a :class:`LegacyError` with a registered code and stage.
    """
    try:
        return _run(spec, outputs_dir, views_dir)
    except LegacyError:
        raise
    except Exception as exc:
        raise LegacyError(
            "INTERNAL_ERROR", f"{type(exc).__name__}: {exc}", {"error": type(exc).__name__}
        ) from exc
    finally:
        clear_index_cache()


def _run(spec: SemanticExecutionSpec, outputs_dir: Path, views_dir: Path | None) -> RunResult:
    sched = build_schedule(spec)
    t0 = time.perf_counter()
    tables = read_inputs(spec.inputs, sched.used_inputs)
    read_s = time.perf_counter() - t0
    versions = InputVersions({b.name: b.delta_version for b in spec.inputs})
    inputs: dict[str, Any] = {**tables, "policy": spec.policy, "input_versions": versions}
    timer = _NodeTimer()
    t1 = time.perf_counter()
    computed = _execute(sched, inputs, timer)
    semantic_s = time.perf_counter() - t1
    t2 = time.perf_counter()
    if views_dir is not None:
        for name in sched.kept_views:
            _write(views_dir / name, computed[name], name, VIEW_CATALOG[name].primary_key)
    outputs = []
    for out in spec.outputs:
        table = computed[out.view]
        uri = outputs_dir / out.table
        contract = OUTPUT_TABLES.get(out.table) or VIEW_CATALOG[out.view]
        committed = _write(uri, table, out.table, contract.primary_key)
        outputs.append(
            OutputInfo(
                table=out.table,
                uri=str(uri),
                delta_version=committed,
                rows=table.num_rows,
                schema_hash=schema_hash(table.schema),
            )
        )
    write_s = time.perf_counter() - t2
    order = [v for gen in sched.generations for v in gen]
    return RunResult(
        backend=BACKEND,
        engine_version=ENGINE_VERSION,
        spec_hash=spec_hash(spec),
        outputs=tuple(outputs),
        warnings=_warnings(computed),
        metrics=tuple(
            OperatorMetric(
                view=v,
                operator="hamilton_node",
                rows=computed[v].num_rows,
                elapsed_ms=round(timer.elapsed_ms.get(v, 0.0), 3),
            )
            for v in order
        ),
        view_rows={v: computed[v].num_rows for v in order},
        timings={
            "read_s": round(read_s, 6),
            "semantic_s": round(semantic_s, 6),
            "write_s": round(write_s, 6),
        },
    )
