"""A process pool that survives crashing workers: a file that kills a worker costs that file only.

Tasks are submitted through a bounded window, so when a worker dies (a native parser
overflowing its stack aborts the whole process) only the tasks in flight are lost. Those are
re-run one extractor at a time in a fresh single-worker pool: the (file, extractor) pairs that
crash or hang again get a structured warning; everything else is extracted normally.

Time is bounded per task, not per pool: the window holds at most one task per worker, so a
task runs from the moment it is submitted, and each has its own deadline (``hard_timeout_s``
per extractor it runs). The worker's SIGALRM turns a Python-level overrun into a warning, but
a native parser never returns to the interpreter to see the signal; such a task is caught by
its deadline, the pool is killed, the other tasks in flight are re-run, and the overdue one
is isolated. (Waiting for *any* task to finish, as before, let one hung file hold the run
until the others were done, and then some.)
"""

from __future__ import annotations

import multiprocessing.context
import os
import time
from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import replace

from backends.extract import isolation, lifeline
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
    # Each worker ends when this process does, even by SIGKILL (see lifeline).
    return ProcessPoolExecutor(
        max_workers=workers,
        mp_context=_context(),
        initializer=lifeline.die_with,
        initargs=(os.getpid(),),
    )


def _kill(pool: ProcessPoolExecutor) -> None:
    """Terminate a pool whose workers may be hung or dead (no public API kills workers)."""
    processes = getattr(pool, "_processes", None) or {}
    for proc in list(processes.values()):
        if proc.is_alive():
            proc.kill()
    pool.shutdown(wait=False, cancel_futures=True)


def _budget(task: FileTask, hard_timeout_s: float) -> float:
    """The wall-clock limit of a task: the hard limit for each extractor it runs."""
    return hard_timeout_s * max(1, len(task.extractors))


def run_tasks(
    tasks: Iterable[FileTask],
    on_result: OnResult,
    *,
    workers: int,
    hard_timeout_s: float,
) -> int:
    """Run every task; call ``on_result`` once per task. Returns the number of crashes seen."""
    pending: deque[FileTask] = deque(tasks)
    if not pending:  # a warm run: everything served from the cache, no process started
        return 0
    suspects: list[FileTask] = []
    # One task per worker: every task in flight is running, so its deadline is measured from
    # its submission (a queued task would be charged for the wait).
    window = max(1, workers)
    pool = _new_pool(workers)
    inflight: dict[Future[dict[str, CachedResult]], FileTask] = {}
    deadlines: dict[Future[dict[str, CachedResult]], float] = {}
    crashes = 0
    try:
        while pending or inflight:
            refused = False
            while pending and len(inflight) < window:
                task = pending.popleft()
                try:
                    future = pool.submit(run_task, task)
                    inflight[future] = task
                    deadlines[future] = time.monotonic() + _budget(task, hard_timeout_s)
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
                deadlines.clear()
                _kill(pool)
                pool = _new_pool(workers)
                continue
            timeout = max(0.0, min(deadlines[f] for f in inflight) - time.monotonic())
            done, _ = wait(inflight, timeout=timeout, return_when=FIRST_COMPLETED)
            broken = False
            for fut in done:
                task = inflight.pop(fut)
                deadlines.pop(fut, None)
                try:
                    on_result(task, fut.result())
                except BrokenProcessPool:
                    broken = True
                    suspects.append(task)
            if broken:
                crashes += 1
                suspects.extend(inflight.values())
                inflight.clear()
                deadlines.clear()
                _kill(pool)
                pool = _new_pool(workers)
                continue
            now = time.monotonic()
            overdue = [f for f in inflight if deadlines[f] <= now]
            if overdue:
                # A native hang (or a parser far over its limit): isolate the overdue tasks;
                # the others in flight are innocent and simply run again in the new pool.
                suspects.extend(inflight[f] for f in overdue)
                pending.extendleft(inflight[f] for f in inflight if f not in overdue)
                inflight.clear()
                deadlines.clear()
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
