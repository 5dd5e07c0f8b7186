"""Test doubles for shadow mode: adapters that echo, raise, hang, crash or return garbage,
and candidates that misbehave on purpose (junk on the result channel, signals to themselves,
writes into the primary's run, the primary's tables reported as their own).

They are named by ``tests.unit.shadow_fakes:NAME`` (the adapter plugin syntax), so the child
process that runs a candidate can import them too. The misbehaving ones assume they run as the
candidate, with ``ECHO`` (folder ``echo``) as the primary.
"""

from __future__ import annotations

import gc
import os
import signal
import struct
import time
from multiprocessing.connection import Connection
from pathlib import Path

import msgspec
import pyarrow as pa

from backends.contract.fingerprint import schema_hash
from backends.contract.result import OutputInfo, PlanReport, RunResult
from backends.contract.schemas import OUTPUT_TABLES
from backends.contract.spec import SemanticExecutionSpec, spec_hash
from backends.extract.delta import read_table, write_table
from backends.extract.runner import ExtractOptions
from backends.extract.summary import ExtractSummary
from harness.errors import EngineFailure


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

    def extract(self, repo: Path, out: Path, options: ExtractOptions) -> ExtractSummary:
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


def _result_channel() -> Connection:
    """The connection the candidate's child process answers on (found the way a hostile
    adapter could find it: among the live objects of its process)."""
    for obj in gc.get_objects():
        if isinstance(obj, Connection) and not obj.closed and obj.writable:
            return obj
    raise AssertionError("no result channel in this process")


def _primary_outputs(outputs_dir: object) -> Path:
    """The primary's ``outputs/`` beside this candidate's run (``OUT/echo/outputs``)."""
    return Path(str(outputs_dir)).parent.parent / "echo" / "outputs"


class _Abort:
    """Unpickling this aborts the process that does it (the exit 134 of the sweep)."""

    def __reduce__(self) -> tuple[object, tuple[()]]:
        return (os.abort, ())


class Misbehaving(Echo):
    """A candidate that does ``misbehave()`` instead of answering."""

    def run_semantics(
        self, spec: SemanticExecutionSpec, outputs_dir: object, views_dir: object = None
    ) -> RunResult:
        self.misbehave(outputs_dir)
        time.sleep(120)  # whatever it did, it never answers: the time limit ends it
        raise AssertionError("unreachable")

    def misbehave(self, outputs_dir: object) -> None:
        raise NotImplementedError


class JunkTuple(Misbehaving):
    """A pickled tuple of the wrong shape on the result channel, then exit."""

    def misbehave(self, outputs_dir: object) -> None:
        _result_channel().send(("ok", b"{}", 1.0, "extra"))
        os._exit(0)


class JunkTypes(Misbehaving):
    """A well-framed JSON message of the right tag with fields of the wrong types."""

    def misbehave(self, outputs_dir: object) -> None:
        _result_channel().send_bytes(b'{"type": "ok", "manifest": 5, "cpu_s": "fast"}')
        os._exit(0)


class PickleBomb(Misbehaving):
    """A pickle that aborts whoever unpickles it."""

    def misbehave(self, outputs_dir: object) -> None:
        _result_channel().send(_Abort())
        os._exit(0)


class JunkBytes(Misbehaving):
    """Raw bytes that are no frame at all (a header promising 2 GiB), then exit."""

    def misbehave(self, outputs_dir: object) -> None:
        os.write(_result_channel().fileno(), b"\x7f\xff\xff\xffgarbage")
        os._exit(0)


class Truncated(Misbehaving):
    """A header promising 100 bytes, 10 of them, then silence with the channel open."""

    def misbehave(self, outputs_dir: object) -> None:
        os.write(_result_channel().fileno(), struct.pack("!i", 100) + b"0123456789")


class EarlyExit(Misbehaving):
    """Exits with status 0 before sending anything."""

    def misbehave(self, outputs_dir: object) -> None:
        os._exit(0)


class KillSelf(Misbehaving):
    def misbehave(self, outputs_dir: object) -> None:
        os.kill(os.getpid(), signal.SIGKILL)


class SegvSelf(Misbehaving):
    def misbehave(self, outputs_dir: object) -> None:
        os.kill(os.getpid(), signal.SIGSEGV)


class StopSelf(Misbehaving):
    """Stops itself (SIGSTOP): only SIGKILL ends it."""

    def misbehave(self, outputs_dir: object) -> None:
        os.kill(os.getpid(), signal.SIGSTOP)


class WritesPrimary(Echo):
    """Commits a new version to the primary's ``cpg_nodes``, then answers like Echo."""

    def run_semantics(
        self, spec: SemanticExecutionSpec, outputs_dir: object, views_dir: object = None
    ) -> RunResult:
        target = _primary_outputs(outputs_dir) / "cpg_nodes"
        write_table(target, read_table(target))
        return super().run_semantics(spec, outputs_dir, views_dir)


class ReportsPrimary(Echo):
    """Writes its own outputs but reports the primary's tables as its result."""

    def run_semantics(
        self, spec: SemanticExecutionSpec, outputs_dir: object, views_dir: object = None
    ) -> RunResult:
        result = super().run_semantics(spec, outputs_dir, views_dir)
        primary = _primary_outputs(outputs_dir)
        outputs = tuple(
            msgspec.structs.replace(o, uri=str(primary / o.table), delta_version=0)
            for o in result.outputs
        )
        return msgspec.structs.replace(result, outputs=outputs)


ECHO = Echo()
FLAKY = Flaky()
DRIFTING = Drifting()
RAISING = Raising()
HANGING = Hanging()
CRASHING = Crashing()
GARBAGE = Garbage()
JUNK_TUPLE = JunkTuple()
JUNK_TYPES = JunkTypes()
PICKLE_BOMB = PickleBomb()
JUNK_BYTES = JunkBytes()
TRUNCATED = Truncated()
EARLY_EXIT = EarlyExit()
KILL_SELF = KillSelf()
SEGV_SELF = SegvSelf()
STOP_SELF = StopSelf()
WRITES_PRIMARY = WritesPrimary()
REPORTS_PRIMARY = ReportsPrimary()
