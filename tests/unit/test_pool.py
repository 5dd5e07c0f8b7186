"""The worker pool: a file that kills its worker costs that file and that extractor only."""

from __future__ import annotations

from backends.extract.cache import CachedResult
from backends.extract.pool import run_tasks
from backends.extract.worker import FileTask


def _task(path: str, text: str, extractors: tuple[str, ...]) -> FileTask:
    return FileTask(
        path=path,
        module=path[:-3],
        is_package=False,
        text=text,
        extractors=extractors,
        timeout_s=30,
    )


def test_native_crash_is_isolated_to_its_file_and_extractor() -> None:
    # libcst's native parser overflows its stack on 1,600 nested brackets and aborts the
    # process. cst_extractor refuses nesting beyond 1,000 up front (EXTRACT_NESTING_TOO_DEEP),
    # but its cheap raw count is fooled by closers in a string; the pool is the safety net.
    fooling = 'y = "' + ")" * 700 + '"\n'
    deadly = fooling + "x = " + "(" * 1600 + "1" + ")" * 1600 + "\n"
    tasks = [_task(f"ok{i}.py", f"def f{i}():\n    return {i}\n", ("ast", "cst")) for i in range(6)]
    tasks.insert(3, _task("deadly.py", deadly, ("ast", "cst", "tree_sitter")))
    results: dict[str, dict[str, CachedResult]] = {}

    def collect(task: FileTask, res: dict[str, CachedResult]) -> None:
        assert task.path not in results, "each task is reported exactly once"
        results[task.path] = res

    crashes = run_tasks(tasks, collect, workers=2, hard_timeout_s=60)
    assert crashes >= 1
    assert set(results) == {t.path for t in tasks}
    deadly_codes = {name: [w.code for w in r.warnings] for name, r in results["deadly.py"].items()}
    assert deadly_codes["cst"] == ["EXTRACT_WORKER_CRASHED"]
    assert "EXTRACT_WORKER_CRASHED" not in deadly_codes["tree_sitter"]
    for i in range(6):
        for name in ("ast", "cst"):
            result = results[f"ok{i}.py"][name]
            assert result.ipc and not result.warnings


def test_python_level_timeout_becomes_a_warning() -> None:
    big = "x = 1\n" * 200_000
    task = FileTask(
        path="big.py",
        module="big",
        is_package=False,
        text=big,
        extractors=("ast",),
        timeout_s=0.001,
    )
    out: dict[str, CachedResult] = {}
    run_tasks([task], lambda t, r: out.update(r), workers=1, hard_timeout_s=60)
    assert [w.code for w in out["ast"].warnings] == ["EXTRACT_TIMEOUT"]


def test_no_task_starts_no_process() -> None:
    """A warm run (every file served from the cache) starts no worker and no fork server."""
    import multiprocessing

    before = set(multiprocessing.active_children())
    results: list[str] = []
    crashes = run_tasks([], lambda task, _: results.append(task.path), workers=2, hard_timeout_s=5)
    assert crashes == 0 and results == []
    assert set(multiprocessing.active_children()) == before
