"""Test doubles for shadow mode: adapters that echo, raise, hang, crash or return garbage.

They are named by ``tests.unit.shadow_fakes:NAME`` (the adapter plugin syntax), so the child
process that runs a candidate can import them too.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pyarrow as pa

from backends.contract.fingerprint import schema_hash
from backends.contract.result import OutputInfo, PlanReport, RunResult
from backends.contract.schemas import OUTPUT_TABLES
from backends.contract.spec import SemanticExecutionSpec, spec_hash
from backends.extract.delta import read_table, write_table
from harness.run.errors import EngineFailure
from harness.run.request import BackendBuild, BuildRequest


class Echo:
    """A deterministic fake engine: one FILE node per scanned file, other outputs empty."""

    NAME = "echo"
    nodes_extra = 0

    def run_semantics(
        self, spec: SemanticExecutionSpec, outputs_dir: object, views_dir: object = None
    ) -> RunResult:
        scan_uri = next(b.uri for b in spec.inputs if b.name == "repo_scan")
        paths = read_table(Path(scan_uri)).column("path").to_pylist()
        paths += [f"extra{i}.py" for i in range(self.nodes_extra)] + self.extra_paths()
        outputs = []
        for name, contract in OUTPUT_TABLES.items():
            if name == "cpg_nodes":
                rows = [
                    {"node_id": f"n{p}", "kind": "FILE", "path": p, "evidence_source": "repo_scan"}
                    for p in sorted(paths)
                ]
                table = pa.Table.from_pylist(rows, schema=contract.schema)
            else:
                table = contract.schema.empty_table()
            uri = Path(str(outputs_dir)) / name
            version = write_table(uri, table)
            outputs.append(
                OutputInfo(
                    table=name,
                    uri=str(uri),
                    delta_version=version,
                    rows=table.num_rows,
                    schema_hash=schema_hash(table.schema),
                )
            )
        return RunResult(
            backend=self.NAME,
            engine_version="echo-1",
            spec_hash=spec_hash(spec),
            outputs=tuple(outputs),
        )

    def extra_paths(self) -> list[str]:
        return []

    def plan(self, spec: SemanticExecutionSpec, tier: int) -> PlanReport:
        raise NotImplementedError

    def build(self, request: BuildRequest) -> BackendBuild:
        raise NotImplementedError


class Drifting(Echo):
    """Like Echo, with one extra FILE node: a real content mismatch."""

    nodes_extra = 1


class Flaky(Echo):
    """Like Echo, with one node whose path changes on every run: a volatile output."""

    def extra_paths(self) -> list[str]:
        return [f"clock-{time.time_ns()}.py"]


class Raising(Echo):
    def run_semantics(
        self, spec: SemanticExecutionSpec, outputs_dir: object, views_dir: object = None
    ) -> RunResult:
        raise EngineFailure("raising", "EXECUTION_FAILED", "execute", "planned failure")


class Hanging(Echo):
    def run_semantics(
        self, spec: SemanticExecutionSpec, outputs_dir: object, views_dir: object = None
    ) -> RunResult:
        time.sleep(120)
        raise AssertionError("unreachable")


class Crashing(Echo):
    def run_semantics(
        self, spec: SemanticExecutionSpec, outputs_dir: object, views_dir: object = None
    ) -> RunResult:
        os._exit(139)


class Garbage(Echo):
    def run_semantics(
        self, spec: SemanticExecutionSpec, outputs_dir: object, views_dir: object = None
    ) -> RunResult:
        return "not a run result"  # type: ignore[return-value]


ECHO = Echo()
FLAKY = Flaky()
DRIFTING = Drifting()
RAISING = Raising()
HANGING = Hanging()
CRASHING = Crashing()
GARBAGE = Garbage()
