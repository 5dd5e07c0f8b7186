"""Code that runs inside a worker process: extract one file with some extractors.

A Python-level failure becomes a structured warning here. A hard crash (a native parser
aborting) kills the process; :mod:`backends.extract.pool` isolates and reports that.
"""

from __future__ import annotations

import signal
import traceback
from dataclasses import dataclass
from types import FrameType

import pyarrow as pa

from backends.contract.schemas import EVIDENCE_TABLES
from backends.extract.cache import CachedResult
from backends.extract.registry import per_file_extractor
from backends.extract.result import FileResult, FileWarning
from backends.extract.source import SourceFile


@dataclass(frozen=True)
class FileTask:
    """One file and the extractors still to run on it (results not in the cache)."""

    path: str
    module: str | None
    is_package: bool
    text: str
    extractors: tuple[str, ...]
    timeout_s: float


class _Timeout(Exception):
    pass


def _on_alarm(signum: int, frame: FrameType | None) -> None:
    raise _Timeout


def row_schema(extractor: str) -> pa.Schema:
    """The contract schema of an extractor's table without ``path`` (added on assembly)."""
    schema = EVIDENCE_TABLES[extractor].schema
    return schema.remove(schema.get_field_index("path"))


def to_ipc(table: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return bytes(sink.getvalue())


def encode_result(extractor: str, result: FileResult) -> CachedResult:
    table = pa.Table.from_pylist(result.rows, schema=row_schema(extractor))
    return CachedResult(ipc=to_ipc(table), warnings=list(result.warnings))


def _failure(code: str, message: str, detail: str | None = None) -> FileResult:
    return FileResult(rows=[], warnings=[FileWarning(code=code, message=message, detail=detail)])


def run_one(source: SourceFile, extractor: str, timeout_s: float) -> CachedResult:
    """Run one extractor on one file; every Python-level failure becomes a warning."""
    module = per_file_extractor(extractor)
    use_alarm = timeout_s > 0 and hasattr(signal, "setitimer")
    if use_alarm:
        previous = signal.signal(signal.SIGALRM, _on_alarm)
        signal.setitimer(signal.ITIMER_REAL, timeout_s)
    try:
        result = module.extract(source)
        return encode_result(extractor, result)
    except _Timeout:
        return encode_result(
            extractor, _failure("EXTRACT_TIMEOUT", f"{extractor} exceeded {timeout_s:g} s")
        )
    except RecursionError as exc:
        return encode_result(extractor, _failure("EXTRACT_RECURSION_LIMIT", str(exc)))
    except Exception as exc:
        detail = "".join(traceback.format_exception(exc)[-3:])
        message = f"{type(exc).__name__}: {exc}"
        return encode_result(extractor, _failure("EXTRACT_FAILED", message, detail))
    finally:
        if use_alarm:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)


def run_task(task: FileTask) -> dict[str, CachedResult]:
    """Entry point in the worker: all requested extractors on one file."""
    source = SourceFile(
        path=task.path, module=task.module, is_package=task.is_package, text=task.text
    )
    return {name: run_one(source, name, task.timeout_s) for name in task.extractors}
