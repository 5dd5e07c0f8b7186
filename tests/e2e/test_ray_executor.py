"""Shadow suites on a real Ray cluster on this machine (issue 16, parts 3 and 4).

One cluster per module (tests/e2e/ray_cluster.py): a head node that runs no task and two
worker nodes of one CPU each, whose teardown ends exactly the processes it started. The worker
nodes run with ``CODEANATOMY_TEST_RAY_CRASH_REPO`` naming one repository (``crashing``): its
task's worker exits at once, on every attempt (harness/gates/executor.py).

- ``shadow --executor ray --address`` over three golden repositories gives the same Result
  (verdict, every repository's findings, every table's fingerprint in every ``run.json``)
  as ``--executor local``;
- a repository whose task dies twice is a harness fault of that repository (never a pass);
  the other repositories' Results are unchanged;
- a worker node killed while it runs a task: the suite completes with the same Result (Ray
  runs the task again on the other node).

With a local ``--out`` the store shared by the driver and the nodes is this machine's disk.
One suite has its ``--out`` in the local S3 server (tests/s3_server.py): each worker node has a
cache folder of its own (``CODEANATOMY_CACHE``, which the driver does not use, as another
machine's disk), so each task stages its run there and publishes it to the bucket itself; the
suite, read back from the bucket, gives the local Result.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from harness.exit_codes import EXIT_GATE_FAILED, EXIT_OK
from harness.gates.executor import CRASH_ENV, TASK_FAILED
from harness.storage import list_files, staged_in, staging_dir
from tests.e2e.ray_cluster import CLIENT_ENV, Cluster, ray_cluster
from tests.s3_server import S3Server

pytestmark = pytest.mark.slow

CLI = Path(sys.executable).parent / "codeanatomy"
GOLDEN = Path(__file__).resolve().parents[2] / "golden_repos"
REPOS = ("oop", "scopes", "callgraph")
CRASHING = "crashing"
RUN_LIMIT_S = 600.0


@pytest.fixture(scope="module")
def node_caches(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The worker nodes' own cache folders (``node1``, ``node2``): their disks."""
    return tmp_path_factory.mktemp("node-caches")


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory, node_caches: Path) -> Iterator[Cluster]:
    pytest.importorskip("ray", reason="the distributed extra is not installed")
    env = {**os.environ, CRASH_ENV: CRASHING}

    def own_cache(i: int) -> dict[str, str]:
        return {"CODEANATOMY_CACHE": str(node_caches / f"node{i}")}

    with ray_cluster(tmp_path_factory.mktemp("ray"), 2, env, own_cache) as running:
        yield running


def _copy(name: str, to: Path) -> Path:
    target = to / name
    if not target.exists():
        shutil.copytree(GOLDEN / (name if name in REPOS else REPOS[0]), target)
    return target


def _shadow(
    repos: list[Path],
    work: Path,
    *extra: str,
    during: Callable[[Path], None] | None = None,
    bucket: object | None = None,
    uri: str | None = None,
) -> tuple[int, dict[str, object]]:
    """``codeanatomy shadow`` in its own working folder (its own parity history); the exit code
    and what the Result is made of. With ``bucket`` (the S3 server fixture) the suite's
    ``--out`` is ``uri`` in it (a new one by default), read back from the bucket afterwards
    into ``work/out``; the driver's cache is ``work/cache``."""
    work.mkdir(parents=True)
    out = work / "out"
    target = str(out)
    env = {**{k: v for k, v in os.environ.items() if k != CRASH_ENV}, **CLIENT_ENV}
    if bucket is not None:
        target = uri or bucket.uri(bucket.new_prefix("ray") + "/out")  # type: ignore[attr-defined]
        env = {k: v for k, v in env.items() if not k.startswith("AWS_")}
        env.update(bucket.env())  # type: ignore[attr-defined]
        env["CODEANATOMY_CACHE"] = str(work / "cache")
    args = [str(CLI), "shadow", *map(str, repos), "--out", target, "--order", "primary_first"]
    proc = subprocess.Popen(
        [*args, "--json", *extra],
        cwd=work,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    if during is not None:
        during(out)
    stdout, stderr = proc.communicate(timeout=RUN_LIMIT_S)
    assert proc.returncode in (EXIT_OK, EXIT_GATE_FAILED), stderr.decode()
    if bucket is not None:
        from harness.storage import pull

        assert not out.exists()
        out.mkdir()
        pull(target, out, bucket.storage_options())  # type: ignore[attr-defined]
    return proc.returncode, _result(json.loads(stdout), out)


def _result(report: dict[str, object], out: Path) -> dict[str, object]:
    """The verdict, each repository's Result, and every table fingerprint of every run."""
    repos = report["repos"]
    assert isinstance(repos, list)
    fingerprints = {}
    for manifest in sorted(out.glob("*/*/run.json")):
        outputs = json.loads(manifest.read_text())["outputs"]
        key = f"{manifest.parent.parent.name}/{manifest.parent.name}"
        fingerprints[key] = {o["table"]: o["fingerprint"] for o in outputs}
    return {
        "verdict": report["verdict"],
        "counts": report["counts"],
        "results": {r["name"]: r["result"] for r in repos},
        "fingerprints": fingerprints,
    }


@pytest.fixture(scope="module")
def local(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[Path], dict[str, object]]:
    repos_dir = tmp_path_factory.mktemp("repos")
    repos = [_copy(name, repos_dir) for name in REPOS]
    code, result = _shadow(repos, tmp_path_factory.mktemp("local") / "w", "--executor", "local")
    assert code == (EXIT_OK if result["verdict"] == "pass" else EXIT_GATE_FAILED)
    # Every repository was compared, both sides of each: the equality below is not vacuous.
    assert len(result["fingerprints"]) == 2 * len(REPOS)  # type: ignore[arg-type]
    assert all(result["fingerprints"].values())  # type: ignore[attr-defined]
    return repos, result


def test_a_ray_suite_gives_the_local_result(
    cluster: Cluster, local: tuple[list[Path], dict[str, object]], tmp_path: Path
) -> None:
    repos, expected = local
    code, result = _shadow(repos, tmp_path / "w", "--executor", "ray", "--address", cluster.address)
    assert result == expected
    assert code == (EXIT_OK if expected["verdict"] == "pass" else EXIT_GATE_FAILED)


def test_a_ray_suite_into_a_bucket_gives_the_local_result(
    cluster: Cluster,
    node_caches: Path,
    local: tuple[list[Path], dict[str, object]],
    s3_server: S3Server,
    tmp_path: Path,
) -> None:
    """The same suite on the cluster with its runs and reports published to the local S3
    server: the Result and every fingerprint, read back from the bucket, equal the local run's.
    Each task staged its run on its own node (the nodes' caches, not the driver's) and
    published it to the bucket; the driver pulled each run into its own staging folder."""
    repos, expected = local
    uri = s3_server.uri(s3_server.new_prefix("ray") + "/out")
    work = tmp_path / "w"
    code, result = _shadow(
        repos,
        work,
        "--executor",
        "ray",
        "--address",
        cluster.address,
        bucket=s3_server,
        uri=uri,
    )
    assert result == expected
    assert code == (EXIT_OK if expected["verdict"] == "pass" else EXIT_GATE_FAILED)
    options = s3_server.storage_options()
    published = list_files(uri, options)
    driver = staging_dir(uri).name
    for repo in repos:
        # Staged on a worker node: its run's own staging folder in that node's cache.
        staged = [
            node / "remote" / staging_dir(f"{uri}/{repo.name}").name
            for node in sorted(node_caches.iterdir())
        ]
        runs = [m for folder in staged for m in folder.glob("*/run.json")]
        assert len(runs) == 2, staged  # both sides, on one node
        # Published by the task: both sides and the shared evidence are in the bucket.
        sides = [k for k in published if k.startswith(f"{repo.name}/") and k.endswith("/run.json")]
        assert len(sides) == 2, sorted(published)
        assert any(k.startswith(f"{repo.name}/evidence/") for k in published)
        # Pulled by the driver into its staging folder (its report read them there).
        assert len(list((work / "cache" / "remote" / driver / repo.name).glob("*/run.json"))) == 2
        # A side read from the bucket finds the shared evidence beside it (../evidence).
        side = sides[0].rsplit("/", 1)[0]
        with staged_in(f"{uri}/{side}", options) as run:
            manifest = json.loads((run / "run.json").read_text())
            beside = [i["path"] for i in manifest["inputs"] if i["path"].startswith("../")]
            assert beside, manifest["inputs"]
            assert all((run / rel / "_delta_log").is_dir() for rel in beside)
    # Each node extracted with its own per-user cache, not the driver's folder of that name.
    assert any(any((node / "extract").glob("*")) for node in node_caches.iterdir()), (
        "no node used its own extraction cache"
    )
    # No node's or driver's staging path leaked into a published run: every one names the
    # bucket (read back into ``work/out``).
    for manifest in (work / "out").glob("*/*/run.json"):
        text = manifest.read_text()
        assert str(node_caches) not in text and str(work / "cache") not in text


def test_a_task_that_always_dies_is_a_fault_of_its_repo(
    cluster: Cluster, local: tuple[list[Path], dict[str, object]], tmp_path: Path
) -> None:
    repos, expected = local
    crashing = _copy(CRASHING, tmp_path)
    suite = [repos[0], crashing, *repos[1:]]
    code, result = _shadow(suite, tmp_path / "w", "--executor", "ray", "--address", cluster.address)
    assert code == EXIT_GATE_FAILED
    assert result["verdict"] == "fail"
    results = result["results"]
    assert isinstance(results, dict)
    fault = results.pop(CRASHING)
    assert fault["blocks"] and fault["severity"] == "sev1"
    assert fault["coverage"]["tables_compared"] == 0
    messages = [f["message"] for f in fault["findings"] if f["code"] == "HARNESS_FAULT"]
    assert any("did not finish in 2 attempts" in m for m in messages), fault
    assert results == expected["results"]  # the other repositories' Results are unchanged
    fingerprints = result["fingerprints"]
    assert isinstance(fingerprints, dict)
    assert fingerprints == expected["fingerprints"]  # and nothing of the crashing one
    report = json.loads((tmp_path / "w" / "out" / "report" / "parity.json").read_text())
    faulted = next(r for r in report["repos"] if r["name"] == CRASHING)
    assert [f["code"] for f in faulted["faults"]] == [TASK_FAILED]


def test_a_worker_node_killed_mid_suite_changes_nothing(
    cluster: Cluster, local: tuple[list[Path], dict[str, object]], tmp_path: Path
) -> None:
    """Last in the module: it leaves the cluster with one worker node."""
    repos, expected = local
    killed: list[int] = []

    def kill_when_both_nodes_work(out: Path) -> None:
        # The head runs no task: once two runs have started, each worker node runs one.
        deadline = time.monotonic() + RUN_LIMIT_S
        while time.monotonic() < deadline:
            started = [r.name for r in repos if (out / r.name).is_dir()]
            if len(started) >= 2:
                finished = list(out.glob("*/*/run.json"))
                assert len(finished) < 2 * len(REPOS)  # the kill lands mid-suite
                node = cluster.nodes[1]
                cluster.kill_node(node)
                killed.append(node.pid)
                return
            time.sleep(0.05)
        raise AssertionError("the suite never started two repositories")

    code, result = _shadow(
        repos,
        tmp_path / "w",
        "--executor",
        "ray",
        "--address",
        cluster.address,
        during=kill_when_both_nodes_work,
    )
    assert killed, "no worker node was killed"
    assert result == expected
    assert code == (EXIT_OK if expected["verdict"] == "pass" else EXIT_GATE_FAILED)
