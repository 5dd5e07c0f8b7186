"""Benchmark of object storage (issue 16, acceptance): the golden suite with its runs, reports
and parity history in a bucket of the local S3 server (SeaweedFS, tests/s3_server.py) against
the same suite on local disk, and each repository's overhead of the bucket: publishing its
shadow run (both sides, evidence, reports) and reading it back. Nothing here asserts on time:
the numbers go to ``reports/bench_object_store.json``.

The server is on this machine (loopback): the overhead is the S3 protocol, request count and
copying, not a network's latency or bandwidth.

Run with ``make bench`` (or ``pytest tests/bench/test_bench_object_store.py --benchmark-only -s``).
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
from harness.gates.suite import run_suite
from harness.golden.manifest import load_manifest
from harness.shadow.runner import ShadowOptions
from harness.staging import staged_out
from harness.storage import list_files, pull, push
from tests.bench.reports import report_path

RESULTS: dict[str, Any] = {}
OPTIONS = ShadowOptions(order="primary_first", candidate_timeout_s=600)


@pytest.fixture(scope="module", autouse=True)
def report() -> Iterator[None]:
    yield
    suite = RESULTS.get("suite", {})
    if {"local_s", "bucket_s"} <= suite.keys():
        suite["bucket_to_local"] = round(suite["bucket_s"] / suite["local_s"], 3)
    repos = RESULTS.get("per_repo", {})
    if repos:
        pushes = [r["push_s"] for r in repos.values()]
        RESULTS["push_s"] = {
            "mean": round(sum(pushes) / len(pushes), 3),
            "max": round(max(pushes), 3),
            "min": round(min(pushes), 3),
        }
    path = report_path("bench_object_store.json")
    path.write_text(json.dumps(RESULTS, indent=2, sort_keys=True) + "\n")
    print(json.dumps(RESULTS, indent=2, sort_keys=True))


def _golden() -> list[Path]:
    manifest = load_manifest()
    return [manifest.repo_dir(r) for r in manifest.repo]


def _config(root: Path, history: str = "history") -> LoadedConfig:
    root.mkdir(parents=True, exist_ok=True)
    return load_text(f'[parity]\nhistory = "{history}"\n', file=None, root=root)


def _suite(out: Path, config: LoadedConfig) -> tuple[float, dict[str, object]]:
    started = time.perf_counter()
    report, _ = run_suite(_golden(), out, config, ParityPolicy(), OPTIONS, quiet=True)
    results = {r.name: r.result for r in report.repos}
    return time.perf_counter() - started, {"verdict": report.verdict, **results}


def test_golden_suite_bucket_vs_local_disk(
    benchmark: Any, s3_server: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The whole golden suite once into a local folder and once into the bucket (staged,
    published, its parity history appended in the bucket); the extraction cache warm for both."""
    monkeypatch.setenv("CODEANATOMY_CACHE", str(tmp_path / "cache"))
    options = s3_server.storage_options()
    _suite(tmp_path / "warmup", _config(tmp_path / "w0"))
    local_s, local_result = _suite(tmp_path / "local", _config(tmp_path / "w1"))
    prefix = s3_server.new_prefix("bench")
    uri = s3_server.uri(prefix + "/suite")
    config = _config(tmp_path / "w2", s3_server.uri(prefix + "/history"))

    def bucket() -> tuple[float, dict[str, object]]:
        started = time.perf_counter()
        with staged_out(uri, options) as staging:
            _, result = _suite(staging, config)
        return time.perf_counter() - started, result

    for key, value in s3_server.env().items():
        monkeypatch.setenv(key, value)
    bucket_s, bucket_result = benchmark.pedantic(bucket, rounds=1, iterations=1)
    assert bucket_result == local_result
    objects = list_files(uri, options)
    RESULTS["suite"] = {
        "repos": len(_golden()),
        "cores": os.cpu_count(),
        "local_s": round(local_s, 2),
        "bucket_s": round(bucket_s, 2),
        "objects": len(objects),
        "bytes": sum(objects.values()),
        "verdict": bucket_result["verdict"],
    }


def test_per_repo_overhead_of_the_bucket(
    benchmark: Any, s3_server: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each golden repository's shadow run on local disk, then published to the bucket and
    read back into an empty folder: the publish and read-back seconds, objects and bytes."""
    monkeypatch.setenv("CODEANATOMY_CACHE", str(tmp_path / "cache"))
    options = s3_server.storage_options()
    prefix = s3_server.new_prefix("bench-repo")

    def measure() -> None:
        for repo in _golden():
            out = tmp_path / "runs" / repo.name
            config = _config(tmp_path / "w" / repo.name)
            run_suite([repo], out, config, ParityPolicy(), OPTIONS, quiet=True)
            uri = s3_server.uri(f"{prefix}/{repo.name}")
            started = time.perf_counter()
            sent = push(out, uri, options)
            push_s = time.perf_counter() - started
            back = tmp_path / "back" / repo.name
            back.mkdir(parents=True)
            started = time.perf_counter()
            got = pull(uri, back, options)
            pull_s = time.perf_counter() - started
            assert sent == got > 0
            RESULTS.setdefault("per_repo", {})[repo.name] = {
                "objects": sent,
                "bytes": sum(list_files(uri, options).values()),
                "push_s": round(push_s, 3),
                "pull_s": round(pull_s, 3),
            }

    benchmark.pedantic(measure, rounds=1, iterations=1)
    assert len(RESULTS["per_repo"]) == len(_golden())
