"""Benchmark of the Ray executor (issue 16, acceptance): the golden suite on a local cluster of
two one-CPU worker nodes against the local executor, and each repository's overhead of going
through Ray (its task run alone on the cluster, timed from the driver, minus the same shadow
run in this process). Nothing here asserts on time: the numbers go to
``reports/bench_ray.json``.

The store is this machine's disk, and every node is on this machine: the overhead is Ray's
scheduling, the worker's start and imports, and the outcome's transfer, not a network's.

Run with ``make bench`` (or ``pytest tests/bench/test_bench_ray.py --benchmark-only -s``).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from harness.compare.policy import ParityPolicy
from harness.config.load import LoadedConfig, load_text
from harness.gates.executor import Executor, LocalExecutor, RayExecutor, RepoTask
from harness.gates.suite import run_suite
from harness.golden.manifest import load_manifest
from harness.run.extract_options import extract_options
from harness.run.request import BuildRequest
from harness.shadow.runner import ShadowOptions
from tests.bench.reports import report_path
from tests.e2e.ray_cluster import CLIENT_ENV, Cluster, ray_cluster

pytest.importorskip("ray", reason="the distributed extra is not installed")

WORKERS = 2
RESULTS: dict[str, Any] = {}
OPTIONS = ShadowOptions(order="primary_first", candidate_timeout_s=600)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    # The in-process driver (RayExecutor) is a client of the cluster: the same opt-out.
    saved = {k: os.environ.get(k) for k in CLIENT_ENV}
    os.environ.update(CLIENT_ENV)
    try:
        with ray_cluster(tmp_path_factory.mktemp("ray"), WORKERS, dict(os.environ)) as running:
            yield running
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@pytest.fixture(scope="module", autouse=True)
def report() -> Iterator[None]:
    yield
    suite = RESULTS.get("suite", {})
    if {"local_s", "ray_s"} <= suite.keys():
        suite["ray_to_local"] = round(suite["ray_s"] / suite["local_s"], 3)
    repos = RESULTS.get("per_repo", {})
    if repos:
        overheads = [r["overhead_s"] for r in repos.values()]
        RESULTS["overhead_s"] = {
            "mean": round(sum(overheads) / len(overheads), 3),
            "max": round(max(overheads), 3),
            "min": round(min(overheads), 3),
        }
    path = report_path("bench_ray.json")
    path.write_text(json.dumps(RESULTS, indent=2, sort_keys=True) + "\n")
    print(json.dumps(RESULTS, indent=2, sort_keys=True))


def _golden() -> list[Path]:
    manifest = load_manifest()
    return [manifest.repo_dir(r) for r in manifest.repo]


def _config(root: Path) -> LoadedConfig:
    root.mkdir(parents=True, exist_ok=True)
    return load_text("", file=None, root=root)


def _suite(executor: Executor, work: Path) -> tuple[float, dict[str, object]]:
    """Seconds, and the verdict and each repository's Result."""
    config = _config(work)
    started = time.perf_counter()
    report, _ = run_suite(
        _golden(), work / "out", config, ParityPolicy(), OPTIONS, quiet=True, executor=executor
    )
    results = {r.name: r.result for r in report.repos}
    return time.perf_counter() - started, {"verdict": report.verdict, **results}


def test_golden_suite_ray_vs_local(benchmark: Any, cluster: Cluster, tmp_path: Path) -> None:
    """The whole golden suite, each executor once (the extraction cache warm for both: a
    first suite outside the timing fills it)."""
    _suite(LocalExecutor(), tmp_path / "warmup")
    local_s, local_result = _suite(LocalExecutor(), tmp_path / "local")
    ray = RayExecutor(cluster.address)
    ray_s, ray_result = benchmark.pedantic(
        lambda: _suite(ray, tmp_path / "ray"), rounds=1, iterations=1
    )
    assert ray_result == local_result
    RESULTS["suite"] = {
        "repos": len(_golden()),
        "workers": WORKERS,
        "cores": os.cpu_count(),
        "local_s": round(local_s, 2),
        "ray_s": round(ray_s, 2),
        "verdict": ray_result["verdict"],
    }


def test_per_repo_overhead(benchmark: Any, cluster: Cluster, tmp_path: Path) -> None:
    """Each golden repository alone: its Ray task timed from the driver minus the same shadow
    run in this process (one task at a time: no queueing behind another)."""
    config = _config(tmp_path)
    ray = RayExecutor(cluster.address)
    local = LocalExecutor()

    def task(repo: Path, out: Path) -> RepoTask:
        request = BuildRequest(repo=repo, out=out, extract=extract_options(config), views=True)
        return RepoTask(repo.name, request, "legacy", "rust", OPTIONS)

    def timed(executor: Executor, t: RepoTask) -> float:
        started = time.perf_counter()
        (pending,) = executor.submit([t])
        pending()
        return time.perf_counter() - started

    def measure() -> None:
        with ray.session():
            for repo in _golden():
                timed(local, task(repo, tmp_path / "warm" / repo.name))  # the cache filled
                local_s = timed(local, task(repo, tmp_path / "local" / repo.name))
                ray_s = timed(ray, task(repo, tmp_path / "ray" / repo.name))
                RESULTS.setdefault("per_repo", {})[repo.name] = {
                    "local_s": round(local_s, 3),
                    "ray_s": round(ray_s, 3),
                    "overhead_s": round(ray_s - local_s, 3),
                }

    benchmark.pedantic(measure, rounds=1, iterations=1)
    assert len(RESULTS["per_repo"]) == len(_golden())
