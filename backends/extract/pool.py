"""A process pool that survives crashing workers: a file that kills a worker costs that file only.

Tasks are submitted through a bounded window, so when a worker dies (a native parser
overflowing its stack aborts the whole process) only the tasks in flight are lost. Those are
re-run one extractor at a time in a fresh single-worker pool: the (file, extractor) pairs that
crash or hang again get a structured warning; everything else is extracted normally.
"""

from __future__ import annotations

import multiprocessing.context
from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import replace

from backends.extract import isolation
from backends.extract.cache import CachedResult
from backends.extract.result import FileResult, FileWarning
from backends.extract.worker import FileTask, encode_result, run_task

OnResult = Callable[[FileTask, dict[str, CachedResult]], None]

_PRELOAD = [
    "backends.extract.worker",
    "backends.extract.ast_extractor",
    "backends.extract.cst_extractor",
    "backends.extract.tree_sitter_extractor",
    "backends.extract.bytecode_extractor",
    "backends.extract.symtable_extractor",
]


def _context() -> multiprocessing.context.BaseContext:
    # forkserver: workers never inherit the parent's threads (Delta/DataFusion runtimes,
    # progress display), and the preloaded server makes replacing a dead worker cheap.
    # isolation: neither the server nor a worker can import from the analysed repository.
    ctx = isolation.forkserver_context()
    ctx.set_forkserver_preload(_PRELOAD)
    return ctx


def _new_pool(workers: int) -> ProcessPoolExecutor:
    return ProcessPoolExecutor(max_workers=workers, mp_context=_context())


def _kill(pool: ProcessPoolExecutor) -> None:
    """Terminate a pool whose workers may be hung or dead (no public API kills workers)."""
    processes = getattr(pool, "_processes", None) or {}
    for proc in list(processes.values()):
        if proc.is_alive():
            proc.kill()
    pool.shutdown(wait=False, cancel_futures=True)


def run_tasks(
    tasks: Iterable[FileTask],
    on_result: OnResult,
    *,
    workers: int,
    hard_timeout_s: float,
) -> int:
    """Run every task; call ``on_result`` once per task. Returns the number of crashes seen."""
    pending: deque[FileTask] = deque(tasks)
    suspects: list[FileTask] = []
    window = max(1, workers * 4)
    pool = _new_pool(workers)
    inflight: dict[Future[dict[str, CachedResult]], FileTask] = {}
    crashes = 0
    try:
        while pending or inflight:
            refused = False
            while pending and len(inflight) < window:
                task = pending.popleft()
                try:
                    inflight[pool.submit(run_task, task)] = task
                except BrokenProcessPool:
                    # A worker died after the last wait: the pool refuses new work. The task
                    # never ran; what was in flight is suspect.
                    pending.appendleft(task)
                    refused = True
                    break
            if refused:
                crashes += 1
                suspects.extend(inflight.values())
                inflight.clear()
                _kill(pool)
                pool = _new_pool(workers)
                continue
            done, _ = wait(inflight, timeout=hard_timeout_s, return_when=FIRST_COMPLETED)
            if not done:
                # Nothing finished within the hard limit: a native hang. Isolate the suspects.
                suspects.extend(inflight.values())
                inflight.clear()
                _kill(pool)
                pool = _new_pool(workers)
                continue
            broken = False
            for fut in done:
                task = inflight.pop(fut)
                try:
                    on_result(task, fut.result())
                except BrokenProcessPool:
                    broken = True
                    suspects.append(task)
            if broken:
                crashes += 1
                suspects.extend(inflight.values())
                inflight.clear()
                _kill(pool)
                pool = _new_pool(workers)
    finally:
        _kill(pool)
    if suspects:
        crashes += _isolate(suspects, on_result, hard_timeout_s)
    return crashes


def _isolate(suspects: list[FileTask], on_result: OnResult, hard_timeout_s: float) -> int:
    """Re-run each suspect file one extractor at a time, alone, to find what crashes."""
    crashes = 0
    pool = _new_pool(1)
    try:
        for task in sorted(suspects, key=lambda t: t.path):
            results: dict[str, CachedResult] = {}
            for name in task.extractors:
                fut = pool.submit(run_task, replace(task, extractors=(name,)))
                try:
                    results.update(fut.result(timeout=hard_timeout_s))
                except BrokenProcessPool:
                    crashes += 1
                    results[name] = _warning_only(
                        name,
                        "EXTRACT_WORKER_CRASHED",
                        f"the worker process died while running {name} on this file",
                    )
                    _kill(pool)
                    pool = _new_pool(1)
                except TimeoutError:
                    results[name] = _warning_only(
                        name,
                        "EXTRACT_TIMEOUT",
                        f"{name} did not finish within {hard_timeout_s:g} s",
                    )
                    _kill(pool)
                    pool = _new_pool(1)
            on_result(task, results)
    finally:
        _kill(pool)
    return crashes


def _warning_only(extractor: str, code: str, message: str) -> CachedResult:
    """A result with no rows and one warning."""
    warning = FileWarning(code=code, message=message)
    return encode_result(extractor, FileResult(rows=[], warnings=[warning]))
