"""The candidate is contained: whatever its process sends or does, the caller gets the
primary's result and a recorded failure, never an exception or an abort; it cannot pass by
writing the primary's run or reporting the primary's tables. One writer per run folder, and
the candidate's time limit is the user's to set, within sane bounds.

Each misbehaviour reproduces a finding of the adversarial sweep (issue 18): ``JUNK_TUPLE``
raised ``ValueError: too many values to unpack`` in the caller, ``PICKLE_BOMB`` aborted it
(exit 134), ``WRITES_PRIMARY`` and ``REPORTS_PRIMARY`` passed, ``STOP_SELF`` stalled for the
fixed 1,800 s.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from backends.contract.spec import SpecPolicy
from backends.extract.runner import ExtractOptions
from harness.cli import app
from harness.config.load import load_text
from harness.errors import BackendUnavailable, UsageError
from harness.exit_codes import EXIT_USAGE
from harness.run.lock import LOCK_NAME, MARKER_NAME, OUT_BUSY, OUT_NOT_OURS, hold_out_folder
from harness.run.manifest import read_manifest
from harness.run.request import BuildRequest
from harness.shadow.candidate import EXIT_GRACE_S, run_in_child
from harness.shadow.cli import candidate_timeout
from harness.shadow.containment import CANDIDATE_FOREIGN_TABLE, CANDIDATE_WROTE_PRIMARY, read_only
from harness.shadow.runner import ShadowOptions, ShadowOutcome, run_shadow, side_dirs
from harness.shadow.side import SidePlan

FAKES = "tests.unit.shadow_fakes"
runner = CliRunner()


def _write_repo(root: Path) -> Path:
    (root / "pkg").mkdir(parents=True)
    (root / "pkg" / "__init__.py").write_text("")
    (root / "pkg" / "a.py").write_text("def f():\n    return 1\n")
    return root


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _write_repo(tmp_path_factory.mktemp("contained") / "repo")


def _shadow(repo: Path, out: Path, candidate: str, timeout_s: float) -> ShadowOutcome:
    request = BuildRequest(
        repo=repo, out=out, extract=ExtractOptions(extractors=("repo_scan", "ast"), workers=1)
    )
    options = ShadowOptions(order="primary_first", candidate_timeout_s=timeout_s)
    return run_shadow(request, f"{FAKES}:ECHO", f"{FAKES}:{candidate}", options)


def _fingerprints(run_dir: Path) -> dict[str, str]:
    return {o.table: o.fingerprint for o in read_manifest(run_dir / "run.json").outputs}


@pytest.fixture(scope="module")
def clean(repo: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The primary's output fingerprints in a run beside a well-behaved candidate."""
    out = tmp_path_factory.mktemp("clean")
    outcome = _shadow(repo, out, "ECHO", 30)
    assert outcome.primary.ok and outcome.candidate.ok and outcome.faults == ()
    return _fingerprints(out / "echo")


# (candidate, the code of its failure, timed out, the harness fault recorded, time limit)
MISBEHAVIOURS = [
    ("JUNK_TUPLE", "GARBAGE", False, None, 30.0),
    ("JUNK_TYPES", "GARBAGE", False, None, 30.0),
    ("PICKLE_BOMB", "GARBAGE", False, None, 30.0),
    ("JUNK_BYTES", "GARBAGE", False, None, 30.0),
    ("TRUNCATED", "TIMEOUT", True, None, 3.0),
    ("EARLY_EXIT", "CRASHED", False, None, 30.0),
    ("KILL_SELF", "CRASHED", False, None, 30.0),
    ("SEGV_SELF", "CRASHED", False, None, 30.0),
    ("HANGING", "TIMEOUT", True, None, 3.0),
    ("STOP_SELF", "TIMEOUT", True, None, 3.0),
    ("WRITES_PRIMARY", CANDIDATE_WROTE_PRIMARY, False, CANDIDATE_WROTE_PRIMARY, 30.0),
    ("REPORTS_PRIMARY", CANDIDATE_FOREIGN_TABLE, False, CANDIDATE_FOREIGN_TABLE, 30.0),
]


@pytest.mark.parametrize(
    ("candidate", "code", "timed_out", "fault", "timeout_s"),
    MISBEHAVIOURS,
    ids=[m[0].lower() for m in MISBEHAVIOURS],
)
def test_a_misbehaving_candidate_leaves_the_caller_the_primary_result(
    repo: Path,
    tmp_path: Path,
    clean: dict[str, str],
    candidate: str,
    code: str,
    timed_out: bool,
    fault: str | None,
    timeout_s: float,
) -> None:
    outcome = _shadow(repo, tmp_path / "out", candidate, timeout_s)
    # The caller's result: the primary's, as in a clean run.
    assert outcome.primary.ok and outcome.primary_error is None
    assert outcome.manifest is not None
    assert {o.table: o.fingerprint for o in outcome.manifest.outputs} == clean
    assert _fingerprints(tmp_path / "out" / "echo") == clean
    # The candidate's misbehaviour: recorded, never compared.
    assert not outcome.candidate.ok
    assert outcome.candidate.error is not None
    assert outcome.candidate.error["code"] == code, outcome.candidate.error
    assert outcome.candidate.timed_out is timed_out
    assert outcome.comparison is None
    assert outcome.result.blocks
    if fault is not None:
        assert fault in {f.code for f in outcome.faults}, outcome.faults
    if timed_out:
        # Ended at the limit (a stopped process too), not at the default 1,800 s.
        assert outcome.candidate.wall_s < timeout_s + 2 * EXIT_GRACE_S


def test_a_stopped_candidate_is_named_as_such(repo: Path, tmp_path: Path) -> None:
    outcome = _shadow(repo, tmp_path / "out", "STOP_SELF", 2.0)
    assert outcome.candidate.error is not None
    assert "stopped" in outcome.candidate.error["message"]


def test_a_candidate_killed_by_a_signal_is_named_by_it(repo: Path, tmp_path: Path) -> None:
    outcome = _shadow(repo, tmp_path / "out", "SEGV_SELF", 30.0)
    assert outcome.candidate.error is not None
    assert "SIGSEGV" in outcome.candidate.error["message"]


def test_the_primary_tables_keep_their_pinned_versions_after_a_candidate_wrote_them(
    repo: Path, tmp_path: Path
) -> None:
    outcome = _shadow(repo, tmp_path / "out", "WRITES_PRIMARY", 30.0)
    wrote = [f for f in outcome.faults if f.code == CANDIDATE_WROTE_PRIMARY]
    assert wrote and "cpg_nodes" in wrote[0].error
    # The run.json the caller's manifest came from still pins the primary's own commit.
    assert outcome.manifest is not None
    assert read_manifest(tmp_path / "out" / "echo" / "run.json") == outcome.manifest


def test_the_primary_folders_are_read_only_while_the_candidate_runs(tmp_path: Path) -> None:
    # As root (CI containers) the bits stop nothing: the state compared before and after the
    # candidate's run proves containment there; this checks the bits and their restoration.
    table = tmp_path / "echo" / "outputs" / "cpg_nodes"
    table.mkdir(parents=True)
    (table / "part.parquet").write_bytes(b"x")
    before = {p: p.stat().st_mode for p in [tmp_path / "echo", table, table / "part.parquet"]}
    with read_only([tmp_path / "echo"]):
        assert all(not p.stat().st_mode & 0o222 for p in before)
    assert {p: p.stat().st_mode for p in before} == before


def test_an_invalid_time_limit_runs_no_candidate(tmp_path: Path) -> None:
    plan = SidePlan(
        backend=f"{FAKES}:ECHO",
        role="candidate",
        mode="build",
        repo=str(tmp_path),
        run_dir=str(tmp_path / "c"),
        views=False,
        policy=SpecPolicy(),
    )
    for limit in (float("inf"), float("nan"), 1e308, 0.0, -1.0):
        outcome = run_in_child(plan, limit)
        assert outcome.error is not None and outcome.error["code"] == "INVALID_TIMEOUT"
    assert not (tmp_path / "c").exists()


# --- one writer per run folder ---------------------------------------------------------------


def test_a_folder_held_by_a_run_is_refused_to_another(tmp_path: Path) -> None:
    with hold_out_folder(tmp_path, "codeanatomy build"):
        with pytest.raises(UsageError) as refused, hold_out_folder(tmp_path, "codeanatomy shadow"):
            pass
        assert refused.value.code == OUT_BUSY
        assert f"pid {os.getpid()}" in refused.value.message
    with hold_out_folder(tmp_path, "codeanatomy shadow"):  # released with the first
        pass


def _invoke(*args: str | Path) -> Result:
    return runner.invoke(app, [str(a) for a in args])


def _usage_error(result: Result) -> dict[str, str]:
    assert result.exit_code == EXIT_USAGE, result.output
    assert result.stderr.startswith("error: "), result.stderr
    assert "Traceback" not in result.output
    error: dict[str, str] = json.loads(result.stdout)["error"]
    return error


HOLDER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from harness.run.lock import hold_out_folder
    with hold_out_folder(Path(sys.argv[1]), "holder"):
        print("held", flush=True)
        time.sleep(60)
    """
)


@pytest.mark.parametrize("command", ["build", "shadow"])
def test_a_build_into_a_folder_another_process_writes_is_refused(
    tmp_path: Path, command: str
) -> None:
    repo, out = _write_repo(tmp_path / "repo"), tmp_path / "out"
    out.mkdir()
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(out)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        extra = ["--backend", "shadow"] if command == "build" else []
        error = _usage_error(_invoke(command, repo, "--out", out, *extra, "--json"))
        assert error["code"] == OUT_BUSY
        assert f"pid {holder.pid}" in error["message"]
    finally:
        holder.kill()
        holder.wait()


@pytest.mark.parametrize("command", ["build", "shadow"])
def test_a_folder_of_someone_elses_files_is_refused_without_force(
    tmp_path: Path, command: str
) -> None:
    repo, out = _write_repo(tmp_path / "repo"), tmp_path / "mine"
    out.mkdir()
    (out / "run.json").write_text('{"my": "notes"}')
    error = _usage_error(_invoke(command, repo, "--out", out, "--json"))
    assert error["code"] == OUT_NOT_OURS and "--force" in error["message"]
    assert sorted(p.name for p in out.iterdir()) == ["run.json"]  # left as it was
    assert (out / "run.json").read_text() == '{"my": "notes"}'


def test_force_takes_a_foreign_folder_and_marks_it_ours(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(UsageError) as refused, hold_out_folder(tmp_path, "codeanatomy build"):
        pass
    assert refused.value.code == OUT_NOT_OURS
    with hold_out_folder(tmp_path, "codeanatomy build", force=True):
        pass
    assert (tmp_path / MARKER_NAME).is_file() and (tmp_path / LOCK_NAME).is_file()
    with hold_out_folder(tmp_path, "codeanatomy build"):  # ours now: no --force needed
        pass


def test_an_empty_folder_and_a_shadow_root_of_ours_are_accepted(repo: Path, tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    with hold_out_folder(empty, "codeanatomy build"):
        pass
    # A run written before the marker existed: sides with a run.json of ours, shared evidence.
    old = tmp_path / "old"
    _shadow(repo, old, "ECHO", 30.0)
    for name in (MARKER_NAME, LOCK_NAME):
        (old / name).unlink(missing_ok=True)
    with hold_out_folder(old, "codeanatomy shadow"):
        pass


# --- the candidate's time limit --------------------------------------------------------------

BAD_LIMITS = ["inf", "nan", "1e308", "0", "-5"]


@pytest.mark.parametrize("value", BAD_LIMITS)
@pytest.mark.parametrize("command", ["build", "shadow"])
@pytest.mark.parametrize("option", ["--candidate-timeout", "--timeout"])
def test_an_unusable_candidate_timeout_is_a_usage_error(
    tmp_path: Path, command: str, option: str, value: str
) -> None:
    repo = _write_repo(tmp_path / "repo")
    extra = ["--backend", "shadow"] if command == "build" else []
    result = _invoke(command, repo, "--out", tmp_path / "out", *extra, option, value, "--json")
    error = _usage_error(result)
    assert error["code"] == "USAGE" and "--candidate-timeout" in error["message"]
    assert not (tmp_path / "out").exists()  # refused before any work


@pytest.mark.parametrize("value", BAD_LIMITS)
def test_an_unusable_configured_candidate_timeout_is_a_config_error(
    tmp_path: Path, value: str
) -> None:
    config = tmp_path / "codeanatomy.toml"
    config.write_text(f"[engine]\ncandidate_timeout_s = {value}\n")
    repo = _write_repo(tmp_path / "repo")
    result = _invoke("shadow", repo, "--out", tmp_path / "out", "--config", config, "--json")
    error = _usage_error(result)
    assert error["code"] == "CONFIG_INVALID" and "candidate_timeout_s" in error["message"]


def test_the_option_wins_over_the_configured_candidate_timeout(tmp_path: Path) -> None:
    loaded = load_text("[engine]\ncandidate_timeout_s = 42\n", file=None, root=tmp_path, env={})
    assert candidate_timeout(None, loaded) == 42.0
    assert candidate_timeout(7.5, loaded) == 7.5
    default = load_text("", file=None, root=tmp_path, env={})
    assert candidate_timeout(None, default) == 1800.0


def test_build_shadow_gets_the_limit_and_the_force_flag(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import harness.gateway

    seen: list[tuple[float, bool]] = []

    def fake_build(request: harness.gateway.GraphProductBuildRequest) -> None:
        seen.append((request.shadow.candidate_timeout_s, request.force))
        raise BackendUnavailable("shadow", "stopped by the test")

    monkeypatch.setattr(harness.gateway, "build_graph_product", fake_build)
    config = tmp_path / "codeanatomy.toml"
    config.write_text("[engine]\ncandidate_timeout_s = 12.5\n")
    repo, out = _write_repo(tmp_path / "repo"), tmp_path / "out"
    cases: tuple[tuple[list[str], tuple[float, bool]], ...] = (
        ([], (12.5, False)),
        (["--candidate-timeout", "3", "--force"], (3.0, True)),
    )
    for extra, expected in cases:
        result = _invoke(
            "build", repo, "--out", out, "--backend", "shadow", "--config", config, *extra
        )
        assert result.exit_code == EXIT_USAGE and "stopped by the test" in result.stderr
        assert seen[-1] == expected


def test_the_library_build_holds_its_folder(tmp_path: Path) -> None:
    # build_graph_product itself takes the lock, so library callers get one writer too;
    # refused before any work starts.
    from harness.gateway import GraphProductBuildRequest, build_graph_product

    repo, out = _write_repo(tmp_path / "repo"), tmp_path / "out"
    out.mkdir()
    with hold_out_folder(out, "codeanatomy build"), pytest.raises(UsageError) as busy:
        build_graph_product(GraphProductBuildRequest(repo=repo, out=out, backend="legacy"))
    assert busy.value.code == OUT_BUSY
    assert not (out / "run.json").exists() and stat.S_ISREG((out / LOCK_NAME).stat().st_mode)
    (out / "notes.txt").write_text("mine")
    (out / MARKER_NAME).unlink()
    with pytest.raises(UsageError) as foreign:
        build_graph_product(GraphProductBuildRequest(repo=repo, out=out, backend="legacy"))
    assert foreign.value.code == OUT_NOT_OURS


@pytest.mark.parametrize("entry", ["link", "file"])
def test_a_side_folder_that_is_a_link_or_a_file_is_replaced_by_a_folder(
    repo: Path, tmp_path: Path, clean: dict[str, str], entry: str
) -> None:
    # OUT/<candidate> -> OUT/<primary> would send the candidate's commits into the primary's
    # tables; a file there would stop the run. Either is replaced before the sides run.
    out = tmp_path / "out"
    primary_dir, candidate_dir = (out / d for d in side_dirs("echo", "echo"))
    primary_dir.mkdir(parents=True)
    if entry == "link":
        candidate_dir.symlink_to(primary_dir.name)
    else:
        candidate_dir.write_text("not a folder")
    outcome = _shadow(repo, out, "ECHO", 30)
    assert candidate_dir.is_dir() and not candidate_dir.is_symlink()
    assert outcome.primary.ok and outcome.candidate.ok and outcome.faults == ()
    assert _fingerprints(primary_dir) == clean == _fingerprints(candidate_dir)
    versions = {o.table: o.delta_version for o in read_manifest(primary_dir / "run.json").outputs}
    assert set(versions.values()) == {0}, versions
