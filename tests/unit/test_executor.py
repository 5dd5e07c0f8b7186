"""The executors of a parity suite (harness/gates/executor.py) without a cluster: the options'
mistakes (exit 2), Ray missing (exit 2 with the install hint), a task's return surviving
pickling, a repository whose task never finished reported as a harness fault of that
repository alone, and a task that publishes its own run to the S3 server (tests/s3_server.py)
run in process as on a node of its own. The real cluster: tests/e2e/test_ray_executor.py."""

from __future__ import annotations

import dataclasses
import functools
import os
import pickle
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest
from typer.testing import CliRunner

from backends.extract.runner import ExtractOptions
from harness.cli import app
from harness.compare.policy import ParityPolicy
from harness.config.load import load_text
from harness.errors import EngineFailure, UsageError
from harness.exit_codes import EXIT_USAGE
from harness.gates.executor import (
    INSTALL_HINT,
    TASK_FAILED,
    ExecutorUnreachable,
    LocalExecutor,
    Pending,
    RemoteRun,
    RepoTask,
    TaskReturn,
    make_executor,
    probe_address,
    received,
    run_task,
    task_fault,
    unpack,
)
from harness.gates.suite import run_suite
from harness.run.request import BuildRequest
from harness.shadow.runner import ShadowOptions
from harness.staging import staged_out
from harness.storage import STORAGE_AUTH, list_files, staging_dir
from tests.s3_server import S3Server

FAKES = "tests.unit.shadow_fakes"
runner = CliRunner()


def _repo(root: Path) -> Path:
    (root / "pkg").mkdir(parents=True)
    (root / "pkg" / "__init__.py").write_text("")
    (root / "pkg" / "m.py").write_text("def f():\n    return 1\n")
    return root


def _task(repo: Path, out: Path, primary: str = "ECHO", candidate: str = "ECHO") -> RepoTask:
    request = BuildRequest(
        repo=repo, out=out, extract=ExtractOptions(extractors=("repo_scan", "ast"), workers=1)
    )
    options = ShadowOptions(order="primary_first", candidate_timeout_s=60)
    return RepoTask(repo.name, request, f"{FAKES}:{primary}", f"{FAKES}:{candidate}", options)


# --- the options -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "command",
    [
        ["shadow", "{repo}", "--out", "{out}"],
        ["golden", "shadow", "--out", "{out}"],
        ["gate", "parity", "{repo}", "--out", "{out}"],
    ],
)
def test_an_unknown_executor_is_refused_before_anything_runs(
    command: list[str], tmp_path: Path
) -> None:
    repo, out = _repo(tmp_path / "repo"), tmp_path / "out"
    args = [a.format(repo=repo, out=out) for a in command] + ["--executor", "bogus"]
    result = runner.invoke(app, args)
    assert result.exit_code == EXIT_USAGE, result.output
    assert "--executor 'bogus': one of local, ray" in result.stderr
    assert not out.exists()


def test_address_without_ray_is_a_usage_error(tmp_path: Path) -> None:
    repo, out = _repo(tmp_path / "repo"), tmp_path / "out"
    result = runner.invoke(app, ["shadow", str(repo), "--out", str(out), "--address", "auto"])
    assert result.exit_code == EXIT_USAGE, result.output
    assert "--address applies to --executor ray only" in result.stderr


def test_the_executor_options_apply_to_the_parity_gate_only(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["gate", "determinism", "--out", str(tmp_path / "v"), "--executor", "ray"]
    )
    assert result.exit_code == EXIT_USAGE, result.output
    assert "apply to the parity gate only" in result.stderr


@pytest.mark.parametrize(
    "command",
    [
        ["shadow", "{repo}", "--out", "{out}"],
        ["golden", "shadow", "--out", "{out}"],
        ["gate", "parity", "{repo}", "--out", "{out}"],
    ],
)
def test_without_ray_the_option_says_how_to_install_it(
    command: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # ``import ray`` raises ImportError, as where the extra is not installed.
    monkeypatch.setitem(sys.modules, "ray", None)
    repo, out = _repo(tmp_path / "repo"), tmp_path / "out"
    args = [a.format(repo=repo, out=out) for a in command] + ["--executor", "ray", "--json"]
    result = runner.invoke(app, args)
    assert result.exit_code == EXIT_USAGE, result.output
    assert INSTALL_HINT in result.stderr
    assert "pip install 'codeanatomy[distributed]'" in result.stderr
    assert '"code": "EXECUTOR_UNAVAILABLE"' in result.stdout
    assert not out.exists()


def test_the_local_executor_is_the_default_and_needs_no_ray(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)
    assert isinstance(make_executor("local", None), LocalExecutor)
    with pytest.raises(UsageError) as info:
        make_executor("ray", "127.0.0.1:1")
    assert info.value.code == "EXECUTOR_UNAVAILABLE"


# --- what a task sends back ----------------------------------------------------------------


def test_a_task_and_its_return_survive_pickling(tmp_path: Path) -> None:
    task = _task(_repo(tmp_path / "repo"), tmp_path / "out")
    assert pickle.loads(pickle.dumps(task)) == task
    value = run_task(task)
    assert value.outcome is not None and value.outcome.comparison is not None
    again = pickle.loads(pickle.dumps(value))
    assert again == value
    assert unpack(again) == value.outcome


def test_the_primary_engine_error_crosses_as_its_fields(tmp_path: Path) -> None:
    task = _task(_repo(tmp_path / "repo"), tmp_path / "out", primary="RAISING")
    value = run_task(task)
    assert value.outcome is not None and value.outcome.primary_error is None
    assert value.primary_error is not None
    # The reason: an EngineFailure itself cannot be unpickled (five constructor arguments).
    with pytest.raises(TypeError):
        pickle.loads(pickle.dumps(EngineFailure("b", "EXECUTION_FAILED", "execute", "m")))
    outcome = unpack(pickle.loads(pickle.dumps(value)))
    error = outcome.primary_error
    assert isinstance(error, EngineFailure)
    assert (error.backend, error.code, error.stage, error.message) == (
        "raising",
        "EXECUTION_FAILED",
        "execute",
        "planned failure",
    )
    assert outcome.primary == value.outcome.primary
    assert outcome.result == value.outcome.result


def test_an_engine_error_raised_before_the_sides_is_raised_again() -> None:
    raised = EngineFailure(
        "harness", "EXTRACT_WORKER_CRASHED", "extract", "a worker died"
    ).to_dict()
    with pytest.raises(EngineFailure) as info:
        unpack(pickle.loads(pickle.dumps(TaskReturn(outcome=None, raised=raised))))
    assert info.value.to_dict() == raised


def test_a_strict_failure_crosses_as_its_message(tmp_path: Path) -> None:
    from harness.shadow.runner import ShadowError

    task = _task(_repo(tmp_path / "repo"), tmp_path / "out", candidate="DRIFTING")
    strict = RepoTask(
        task.name,
        task.request,
        task.primary,
        task.candidate,
        ShadowOptions(order="primary_first", candidate_timeout_s=60, strict=True),
    )
    value = pickle.loads(pickle.dumps(run_task(strict)))
    assert value.outcome is None and value.strict_error
    with pytest.raises(ShadowError, match="parity sev"):
        unpack(value)


# --- a task that never finished ----------------------------------------------------------


def test_a_task_fault_is_sev1_and_compares_nothing(tmp_path: Path) -> None:
    task = _task(_repo(tmp_path / "repo"), tmp_path / "out")
    outcome = task_fault(task, "worker died twice")
    assert outcome.result.blocks and outcome.result.severity == "sev1"
    assert outcome.result.coverage.tables_compared == 0
    assert [f.code for f in outcome.faults] == [TASK_FAILED]
    assert any(
        f.code == "HARNESS_FAULT" and "worker died twice" in f.message
        for f in outcome.result.findings
    )
    assert not outcome.primary.ok and not outcome.candidate.ok
    assert outcome.primary_error is None  # never taken for the primary's own error
    assert pickle.loads(pickle.dumps(TaskReturn(outcome=outcome))).outcome == outcome


class Dying(LocalExecutor):
    """The local executor, except that the tasks of the repositories in ``dead`` never
    finish (what the Ray executor reports after the second death)."""

    def __init__(self, dead: set[str]) -> None:
        self.dead = dead

    def submit(self, tasks: Sequence[RepoTask]) -> list[Pending]:
        pending = super().submit(tasks)
        return [
            functools.partial(task_fault, t, "killed twice") if t.name in self.dead else p
            for t, p in zip(tasks, pending, strict=True)
        ]


def _suite(repos: list[Path], out: Path, executor: LocalExecutor) -> dict[str, object]:
    config = load_text("", file=None, root=out.parent)
    report, _ = run_suite(
        repos,
        out,
        config,
        ParityPolicy(),
        ShadowOptions(order="primary_first", candidate_timeout_s=300),
        quiet=True,
        executor=executor,
    )
    return {"verdict": report.verdict, **{r.name: r.result for r in report.repos}}


def test_a_dead_task_is_a_fault_of_its_repo_alone_never_a_pass(tmp_path: Path) -> None:
    repos = [_repo(tmp_path / "a"), _repo(tmp_path / "b")]
    local = _suite(repos, tmp_path / "local" / "out", LocalExecutor())
    dying = _suite(repos, tmp_path / "dying" / "out", Dying({"b"}))
    assert dying["a"] == local["a"]  # the other repository's Result is unchanged
    result_b = dying["b"]
    assert result_b != local["b"]
    assert getattr(result_b, "blocks", False)
    assert dying["verdict"] == "fail"
    # The vacuous case: every task died, nothing was compared: never a pass.
    none = _suite(repos, tmp_path / "none" / "out", Dying({"a", "b"}))
    assert none["verdict"] == "fail"


def test_the_workers_never_run_uv_in_the_drivers_folder(monkeypatch: pytest.MonkeyPatch) -> None:
    """Ray's ``uv run`` hook would ship the driver's working folder (perhaps the analysed
    repository) to the workers and run ``uv run`` there: the Ray executor turns it off."""
    ray_constants = pytest.importorskip("ray._private.ray_constants")
    monkeypatch.setattr(ray_constants, "RAY_ENABLE_UV_RUN_RUNTIME_ENV", True)
    monkeypatch.setenv("RAY_ENABLE_UV_RUN_RUNTIME_ENV", "1")  # undone after the test
    make_executor("ray", "127.0.0.1:1")  # connects only when a suite runs
    assert ray_constants.RAY_ENABLE_UV_RUN_RUNTIME_ENV is False
    assert os.environ["RAY_ENABLE_UV_RUN_RUNTIME_ENV"] == "0"


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_an_address_where_nothing_listens_is_refused_at_once(tmp_path: Path) -> None:
    """ray.init would retry such an address for minutes; the probe refuses it (exit 2) first,
    before any repository runs, with the address in the message."""
    port = _free_port()
    with pytest.raises(ExecutorUnreachable, match=f"127.0.0.1:{port}: nothing accepted"):
        probe_address(f"127.0.0.1:{port}", timeout_s=2)
    with pytest.raises(ExecutorUnreachable):
        probe_address(f"ray://127.0.0.1:{port}", timeout_s=2)
    repo, out = _repo(tmp_path / "repo"), tmp_path / "out"
    args = ["shadow", str(repo), "--out", str(out), "--executor", "ray"]
    result = runner.invoke(app, [*args, "--address", f"127.0.0.1:{port}"])
    assert result.exit_code == EXIT_USAGE, result.output
    assert "nothing accepted a connection" in result.stderr
    assert not (out / "report").exists()


def test_an_address_that_listens_passes_the_probe() -> None:
    import socket

    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        probe_address(f"127.0.0.1:{server.getsockname()[1]}", timeout_s=2)
    # Forms the probe cannot read are left to Ray (auto finds the cluster on this machine).
    probe_address("auto")
    probe_address("not-an-address")


# --- a task that publishes its own run (object-store OUT) ----------------------------------


def _remote_task(
    task: RepoTask, uri: str, options: dict[str, str], node_cache: bool = False
) -> RepoTask:
    return dataclasses.replace(task, remote=RemoteRun(uri, options, node_cache))


def test_a_task_stages_its_run_on_its_node_and_publishes_it(
    s3_server: S3Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In process, as on a worker node whose cache is not the driver's: the run is staged in
    the node's cache, published to the bucket, and the outcome names the driver's folder of
    the run, into which the driver then pulls it."""
    repo = _repo(tmp_path / "repo")
    expected = run_task(_task(repo, tmp_path / "local" / "repo"))
    assert expected.outcome is not None
    options = s3_server.storage_options()
    uri = s3_server.uri(s3_server.new_prefix("task")) + "/repo"
    driver_view = tmp_path / "driver" / "repo"
    # The driver's per-user extraction cache: the node uses its own instead.
    driver_cache = tmp_path / "driver-cache" / "extract"
    plain = _task(repo, driver_view)
    extract = dataclasses.replace(plain.request.extract, cache_dir=driver_cache)
    plain = dataclasses.replace(plain, request=dataclasses.replace(plain.request, extract=extract))
    task = _remote_task(plain, uri, options, node_cache=True)
    assert options["AWS_SECRET_ACCESS_KEY"] not in repr(task)
    assert pickle.loads(pickle.dumps(task)) == task
    node = tmp_path / "node-cache"
    monkeypatch.setenv("CODEANATOMY_CACHE", str(node))
    value = run_task(task)
    assert value.outcome is not None and value.storage_error is None
    assert not driver_view.exists()  # nothing written on the driver's side
    assert not driver_cache.exists() and any((node / "extract").iterdir())
    staged = staging_dir(uri)
    assert staged.parent == node / "remote" and (staged / "echo" / "run.json").is_file()
    published = list_files(uri, options)
    assert {"echo/run.json", "echo-candidate/run.json"} <= set(published)
    assert any(rel.startswith("evidence/") for rel in published)
    assert str(staged) not in repr(value)  # every path is the driver's
    assert value.outcome.primary.run_dir == str(driver_view / "echo")
    outcome = received(task, value)
    assert (driver_view / "echo" / "run.json").is_file()
    assert str(uri) not in (driver_view / "echo" / "run.json").read_text()
    assert outcome.result == expected.outcome.result


def test_a_task_whose_bucket_access_fails_is_a_fault_of_its_repo(
    s3_server: S3Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CODEANATOMY_CACHE", str(tmp_path / "node-cache"))
    secret = "not-the-secret-0123456789"
    options = {**s3_server.storage_options(), "AWS_SECRET_ACCESS_KEY": secret}
    uri = s3_server.uri(s3_server.new_prefix("refused")) + "/repo"
    task = _remote_task(_task(_repo(tmp_path / "repo"), tmp_path / "driver" / "repo"), uri, options)
    value = pickle.loads(pickle.dumps(run_task(task)))
    assert value.outcome is None and value.storage_error is not None
    assert value.storage_error["code"] == STORAGE_AUTH
    assert secret not in repr(value)
    outcome = received(task, value)
    assert [f.code for f in outcome.faults] == [STORAGE_AUTH]
    assert outcome.result.blocks and outcome.result.severity == "sev1"  # never a pass
    assert outcome.result.coverage.tables_compared == 0
    assert outcome.primary_error is None
    assert not (tmp_path / "driver").exists()


class Elsewhere(LocalExecutor):
    """Tasks that run as on another node (not in process: each publishes its own run when
    the suite's OUT is in a bucket), here one after another, as the Ray executor receives
    them."""

    in_process = False

    def __init__(self) -> None:
        self.tasks: list[RepoTask] = []

    def submit(self, tasks: Sequence[RepoTask]) -> list[Pending]:
        self.tasks = list(tasks)
        return [functools.partial(lambda t: received(t, run_task(t)), t) for t in tasks]


def test_a_suite_into_a_bucket_gives_each_remote_task_its_runs_uri(
    s3_server: S3Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CODEANATOMY_CACHE", str(tmp_path / "cache"))
    repos = [_repo(tmp_path / "a"), _repo(tmp_path / "b")]
    local = _suite(repos, tmp_path / "local" / "out", LocalExecutor())
    options = s3_server.storage_options()
    uri = s3_server.uri(s3_server.new_prefix("suite"))
    elsewhere = Elsewhere()
    with staged_out(uri, options) as folder:
        remote = _suite(repos, folder, elsewhere)
    assert remote == local
    # [extract] cache = true (the default) is each node's own per-user cache.
    assert [t.remote for t in elsewhere.tasks] == [
        RemoteRun(f"{uri}/a", options, node_cache=True),
        RemoteRun(f"{uri}/b", options, node_cache=True),
    ]
    published = set(list_files(uri, options))
    assert "report/parity.json" in published
    for name in ("a", "b"):
        runs = [rel for rel in published if rel.startswith(f"{name}/") and rel.endswith("run.json")]
        assert len(runs) == 2, published  # both sides of the repository
    # A suite of one repository writes its run at OUT itself, and so does its task.
    single = s3_server.uri(s3_server.new_prefix("single"))
    with staged_out(single, options) as folder:
        alone = _suite(repos[:1], folder, elsewhere)
    assert alone["a"] == local["a"]
    assert [t.remote for t in elsewhere.tasks] == [RemoteRun(single, options, node_cache=True)]
    assert "report/parity.json" in list_files(single, options)
    # The vacuous case: a local OUT, or tasks in process, publish nothing themselves.
    in_process = Elsewhere()
    in_process.in_process = True
    _suite(repos, tmp_path / "plain" / "out", in_process)
    assert [t.remote for t in in_process.tasks] == [None, None]
