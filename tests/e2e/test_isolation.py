"""Analysed code never runs: no process codeanatomy starts imports the analysed repository.

Every command that touches a repository runs against a trap repository (tests/e2e/trap_repo.py)
from inside it (working directory = repo, relative paths, as CI runs tools on a checkout) and
from outside it; no trap may leave a sentinel. With ``PYTHONPATH`` pointing into the repo, the
interpreter the user started is theirs, but none of our children may inherit it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from backends.extract import isolation
from tests.e2e.trap_repo import sentinels_left, trap_source, write_trap_repo

pytestmark = pytest.mark.slow

CLI = str(Path(sys.executable).with_name("codeanatomy"))
# Long enough for a cold build of both backends of a tiny repo on 2 cores.
TIMEOUT_S = 600


def _env(tmp: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["CODEANATOMY_CACHE"] = str(tmp / "cache")
    env.update(extra)
    return env


def _run(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [CLI, *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
        check=False,
        stdin=subprocess.DEVNULL,
    )


@pytest.fixture(scope="module")
def trap(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path, Path]]:
    base = tmp_path_factory.mktemp("isolation")
    sentinels = base / "sentinels"
    repo = write_trap_repo(base / "trap", sentinels)
    yield base, repo, sentinels


# (label, arguments) run with cwd = the trap repo, paths relative to it. Outputs go beside it.
INSIDE: tuple[tuple[str, list[str]], ...] = (
    ("extract", ["extract", ".", "--out", "../out/extract", "--json"]),
    ("build legacy", ["build", ".", "--out", "../out/legacy", "--backend", "legacy"]),
    ("build rust", ["build", ".", "--out", "../out/rust", "--backend", "rust", "--views"]),
    ("build shadow", ["build", ".", "--out", "../out/shadow", "--backend", "shadow"]),
    ("shadow isolated", ["shadow", ".", "--out", "../out/shadow_iso", "--isolated"]),
    ("plan", ["plan", "--backend", "rust", "--tier", "3", "--evidence", "../out/rust/evidence"]),
    ("compare", ["compare", "../out/legacy", "../out/rust"]),
    ("gates", ["gate", "all", ".", "--out", "../out/gates"]),
    ("preflight", ["preflight", "."]),
    ("config", ["config", "validate"]),
    ("status", ["status"]),
    ("killswitch", ["killswitch", "status"]),
    ("golden list", ["golden", "list"]),
)


def test_no_command_started_inside_the_repo_imports_it(trap: tuple[Path, Path, Path]) -> None:
    base, repo, sentinels = trap
    env = _env(base, PATH=os.pathsep.join([".", "node_modules/.bin", os.environ["PATH"]]))
    report = []
    for label, args in INSIDE:
        proc = _run(args, repo, env)
        left = sentinels_left(sentinels)
        report.append((label, proc.returncode, left))
        assert proc.returncode != 4, f"{label}: internal error\n{proc.stderr[-3000:]}"
        assert not left, f"{label} imported or ran the analysed repo: {left}\n{report}"
    # The builds really ran (a command that did nothing would leave no sentinel either).
    for side in ("legacy", "rust"):
        assert (base / "out" / side / "run.json").is_file(), side
    assert (base / "out" / "shadow_iso" / "report" / "parity.json").is_file()


def test_scip_ran_for_real_from_inside_the_repo(trap: tuple[Path, Path, Path]) -> None:
    base, repo, sentinels = trap
    out = base / "out" / "scip_only"
    env = _env(base, PATH=os.pathsep.join([".", os.environ["PATH"]]))
    proc = _run(
        ["extract", ".", "--out", "../out/scip_only", "--only", "scip", "--json"], repo, env
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert '"SCIP_FAILED"' not in proc.stdout and '"SCIP_UNAVAILABLE"' not in proc.stdout
    assert (out / "evidence" / "scip" / "_delta_log").is_dir()
    assert not sentinels_left(sentinels)


def test_commands_started_outside_the_repo_do_not_import_it(
    trap: tuple[Path, Path, Path],
) -> None:
    base, repo, sentinels = trap
    env = _env(base)
    for args in (
        ["extract", str(repo), "--out", str(base / "out" / "o_extract")],
        ["build", str(repo), "--out", str(base / "out" / "o_shadow"), "--backend", "shadow"],
    ):
        proc = _run(args, base, env)
        assert proc.returncode == 0, proc.stderr[-3000:]
        assert not sentinels_left(sentinels), args


def test_children_do_not_inherit_pythonpath_into_the_repo(tmp_path: Path) -> None:
    sentinels = tmp_path / "sentinels"
    repo = tmp_path / "repo"
    repo.mkdir()
    sentinels.mkdir()
    for hook in ("sitecustomize", "usercustomize"):
        (repo / f"{hook}.py").write_text(trap_source(sentinels, hook), encoding="utf-8")
    (repo / "mod.py").write_text("def f():\n    return 1\n", encoding="utf-8")
    env = _env(tmp_path, PYTHONPATH=str(repo))
    proc = subprocess.Popen(
        [CLI, "build", str(repo), "--out", str(tmp_path / "out"), "--backend", "shadow"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        stdin=subprocess.DEVNULL,
    )
    _, stderr = proc.communicate(timeout=TIMEOUT_S)
    assert proc.returncode == 0, stderr[-3000:]
    # The user's own interpreter ran their sitecustomize (their choice); no child did.
    assert any(name.endswith(f"-{proc.pid}") for name in sentinels_left(sentinels))
    assert sentinels_left(sentinels, allowed_pid=proc.pid) == []


# --- the isolation rules themselves ---------------------------------------------------------


def test_child_flags_are_isolated() -> None:
    assert isolation.interpreter_flags()[-1] == "-I"
    import multiprocessing.util

    hook = multiprocessing.util._args_from_interpreter_flags  # type: ignore[attr-defined]
    assert hook() == isolation.interpreter_flags()


def test_child_sys_path_keeps_only_the_interpreter_and_the_package(tmp_path: Path) -> None:
    stdlib = str(Path(os.__file__).parent)
    # tmp_path stands for the analysed repo (a working directory, a PYTHONPATH entry).
    entries = ["", ".", "repo", str(tmp_path), stdlib, str(isolation.PACKAGE_ROOT)]
    assert isolation.child_sys_path(entries) == [stdlib, str(isolation.PACKAGE_ROOT)]
    # A folder inside the package root (an analysed golden repo) is not the package root.
    inner = str(isolation.PACKAGE_ROOT / "golden_repos" / "hostile")
    assert isolation.child_sys_path([inner]) == []


def test_child_environ_drops_python_start_up_variables() -> None:
    base = {
        "PYTHONPATH": "/repo",
        "PYTHONSTARTUP": "/repo/x.py",
        "PYTHONHOME": "/x",
        "PYTHONUSERBASE": "/repo",
        "PYTHONHASHSEED": "0",
        "PATH": "/usr/bin",
    }
    assert isolation.child_environ(base) == {"PYTHONHASHSEED": "0", "PATH": "/usr/bin"}


def test_which_trusted_skips_relative_entries_and_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = tmp_path / "node"
    fake.write_text("#!/bin/sh\nexit 0\n")
    fake.chmod(0o755)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PATH", os.pathsep.join(["", ".", str(tmp_path)]))
    assert isolation.which_trusted("node") is None
    elsewhere = tmp_path / "bin"
    elsewhere.mkdir()
    real = elsewhere / "tool"
    real.write_text("#!/bin/sh\nexit 0\n")
    real.chmod(0o755)
    monkeypatch.setenv("PATH", str(elsewhere))
    assert isolation.which_trusted("tool") == str(real)
