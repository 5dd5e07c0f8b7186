"""Adapter of the new engine: Stage 0 by the shared extraction runner (process pool), the
semantic stage and plans by ``codeanatomy_engine``.

A semantic run whose outputs already hold its result is not run again (:func:`_reused`): the
engine is deterministic, so the same engine on the same spec over the same evidence commits
nothing new. Each output table carries a note (``backends.extract.delta.write_note``, pinned to
the table's version and commit) with the key of the run that left it so: the engine version,
the spec's canonical JSON and the commit of every evidence version it pins (an evidence table
rebuilt in place at the same version has another commit). When every output's note holds the
key, the RunResult of that run is returned as it was (its operator metrics describe the run
that computed these outputs); any other case runs the engine.
"""

from __future__ import annotations

import hashlib
import time
from pathlib import Path
from typing import Any

import msgspec

from backends.contract.result import PlanReport, RunResult
from backends.contract.spec import SemanticExecutionSpec, canonical_json
from backends.extract.delta import (
    DeltaWriteError,
    commit_stamp,
    current_version,
    read_note,
    write_note,
)
from backends.extract.runner import ExtractOptions
from backends.extract.runner import extract as run_extract
from backends.extract.summary import ExtractSummary
from harness.errors import BackendUnavailable, EngineFailure

NAME = "rust"


def check_available() -> None:
    """Raise BackendUnavailable (why: the import error) when the compiled extension cannot be
    imported. :func:`harness.adapters.adapter` calls it; nothing else checks the extension."""
    try:
        import backends.rust  # noqa: F401
    except ImportError as exc:
        raise BackendUnavailable(NAME, str(exc)) from exc


def engine_version() -> str:
    """The engine's version (with its DataFusion and delta-rs); ImportError when not built."""
    from backends.rust import engine_version as version

    return version()


def _failure(exc: Exception) -> EngineFailure:
    code = getattr(exc, "code", None)
    stage = getattr(exc, "stage", None)
    context: Any = getattr(exc, "context", None)
    if not isinstance(code, str) or not isinstance(stage, str):
        return EngineFailure(NAME, "INTERNAL_ERROR", "internal", f"{type(exc).__name__}: {exc}")
    message = getattr(exc, "message", None) or str(exc)
    return EngineFailure(
        NAME, code, stage, str(message), context if isinstance(context, dict) else None
    )


SEMANTIC_NOTE = "semantic"
"""The note of each output table naming the run that left its version (see the module doc)."""


def _engine_identity() -> str:
    """The engine's version and its compiled module's size and modification time: a rebuilt
    extension (a developer's, with the same version string) is another engine."""
    import backends.rust as engine
    from backends.rust import _engine

    stat = Path(_engine.__file__ or "").stat()
    return f"{engine.engine_version()}\x1e{stat.st_size}\x1e{stat.st_mtime_ns}"


def _run_key(spec: SemanticExecutionSpec, engine_version: str) -> str | None:
    """What a semantic run's outputs depend on; None when an evidence commit is not found
    (an object-store URI, a missing table: the engine runs and reports it)."""
    digest = hashlib.sha256()
    digest.update(engine_version.encode() + b"\x1f" + canonical_json(spec))
    for binding in spec.inputs:
        if "://" in binding.uri:
            return None
        stamp = commit_stamp(Path(binding.uri), binding.delta_version)
        if stamp is None:
            return None
        digest.update(f"\x1f{binding.name}\x1e{stamp}".encode())
    return digest.hexdigest()


def _reused(spec: SemanticExecutionSpec, outputs_dir: Path, key: str) -> RunResult | None:
    """The RunResult of the run that left every output of ``spec`` as it is now, when that
    run had ``key``; None otherwise."""
    started = time.perf_counter()
    now: dict[str, tuple[str, int]] = {}
    stored: Any = None
    for output in spec.outputs:
        uri = outputs_dir / output.table
        version = current_version(uri)
        if version is None:
            return None
        note = read_note(uri, SEMANTIC_NOTE, version)
        if note.get("key") != key:
            return None
        stored = stored if stored is not None else note.get("result")
        now[output.table] = (str(uri), version)
    try:
        result = msgspec.convert(stored, RunResult)
    except msgspec.ValidationError:
        return None
    if {o.table: (o.uri, o.delta_version) for o in result.outputs} != now:
        return None  # another folder (a moved run) or other versions: not this result
    return msgspec.structs.replace(
        result, timings={"reused_s": round(time.perf_counter() - started, 4)}
    )


def _note_run(outputs_dir: Path, key: str, result: RunResult) -> None:
    """Note ``key`` on every output ``result`` left (the result itself on the first)."""
    for i, output in enumerate(result.outputs):
        values: dict[str, Any] = {"key": key}
        if i == 0:
            values["result"] = msgspec.to_builtins(result)
        write_note(outputs_dir / output.table, SEMANTIC_NOTE, output.delta_version, values)


class RustAdapter:
    """The new engine behind the adapter protocol of ``harness.adapters``."""

    NAME = NAME

    def extract(self, repo: Path, out: Path, options: ExtractOptions) -> ExtractSummary:
        try:
            return run_extract(repo, out, options)
        except DeltaWriteError as exc:  # an evidence table could not be written
            context = {**exc.context, "reason": exc.reason}
            raise EngineFailure(NAME, "COMMIT_FAILED", "commit", str(exc), context) from exc

    def run_semantics(
        self, spec: SemanticExecutionSpec, outputs_dir: object, views_dir: object = None
    ) -> RunResult:
        import backends.rust as engine

        outputs = Path(str(outputs_dir))
        key = None if views_dir is not None else _run_key(spec, _engine_identity())
        if key is not None:
            reused = _reused(spec, outputs, key)
            if reused is not None:
                return reused
        try:
            result = engine.run(spec, outputs, None if views_dir is None else Path(str(views_dir)))
        except engine.EngineError as exc:
            raise _failure(exc) from exc
        if key is not None:
            _note_run(outputs, key, result)
        return result

    def plan(self, spec: SemanticExecutionSpec, tier: int) -> PlanReport:
        import backends.rust as engine

        try:
            return engine.plan(spec, tier)
        except engine.EngineError as exc:
            raise _failure(exc) from exc


ADAPTER = RustAdapter()
