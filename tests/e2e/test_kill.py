"""Kill at any moment loses nothing and leaks nothing (issue 18, part 6).

``build`` (both backends) and ``shadow`` run as real subprocesses on a repository of a
hundred-odd files and are sent SIGKILL at seeded random moments spread over their whole run
(extraction, scip-python, each Delta commit, the manifest). After each kill:

- every process the run started (fork server, resource tracker, extraction workers, the
  shadow candidate, node for scip-python) is gone within a few seconds: none outlives it;
- every Delta table under the output folder reads at its latest version (no table is seen
  half-written), and every ``run.json`` there is whole and pins versions whose rows still
  have the fingerprints it recorded (the previous run's tables are intact);
- the scip-python scratch copy of the repository is never where the next run scans: the
  output folder lies *inside* the analysed repository, and the rerun finds the same files.

Every fifth kill, and once per command at the end, the command is rerun to completion into
the same folder: its fingerprints must equal the uninterrupted reference run's.

A build into a folder that holds one commits only what changed (CONTRACT §15): one file of
the repository alternates between variants from kill to kill, so every run commits merges
(the kills land between them), and the reference content is restored before each rerun.
``pytest -s`` prints the table of kills by phase.
"""

from __future__ import annotations

import contextlib
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pytest
from deltalake import DeltaTable

from backends.contract.fingerprint import fingerprint
from harness.run.manifest import read_manifest

pytestmark = pytest.mark.slow

CLI = Path(sys.executable).parent / "codeanatomy"
GOLDEN = Path(__file__).resolve().parents[2] / "golden_repos"
KILLS_PER_COMMAND = 17  # 3 commands: 51 kills
LEAK_GRACE_S = 10.0
RUN_LIMIT_S = 300.0


@dataclass(frozen=True)
class Command:
    name: str
    args: tuple[str, ...]  # after "codeanatomy", before "--out"


COMMANDS = (
    Command("build-legacy", ("build", "--backend", "legacy")),
    Command("build-rust", ("build", "--backend", "rust")),
    Command("shadow", ("shadow", "--seed", "1")),
)


def _make_repo(root: Path) -> Path:
    """About 120 Python files: long enough a run that kills land in every phase."""
    repo = root / "killrepo"
    for i in range(8):
        for name in ("realistic", "oop", "callgraph"):
            shutil.copytree(GOLDEN / name, repo / f"pkg{i}" / name, dirs_exist_ok=True)
        (repo / f"pkg{i}" / "__init__.py").write_text("", encoding="utf-8")
    _edit(repo, 0)
    return repo


def _edit(repo: Path, variant: int) -> None:
    """The file that differs from run to run (variant 0 is the reference content)."""
    text = f"def edited_{variant}():\n    return {variant}\n"
    (repo / "pkg0" / "kill_edit.py").write_text(text, encoding="utf-8")


def _env(cache: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CODEANATOMY_")}
    env["CODEANATOMY_CACHE"] = str(cache)
    return env


def _argv(command: Command, repo: Path, out: Path) -> list[str]:
    return [str(CLI), *command.args, str(repo), "--out", str(out), "--json"]


def _descendants(pid: int) -> set[tuple[int, str]]:
    """(pid, start time) of every living descendant of ``pid``, from /proc."""
    parents: dict[int, tuple[int, str]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2 :].split()
        parents[int(entry.name)] = (int(fields[1]), fields[19])
    found: set[tuple[int, str]] = set()
    frontier = [pid]
    while frontier:
        current = frontier.pop()
        for child, (ppid, start) in parents.items():
            if ppid == current and (child, start) not in found:
                found.add((child, start))
                frontier.append(child)
    return found


def _alive(proc: tuple[int, str]) -> bool:
    try:
        stat = Path(f"/proc/{proc[0]}/stat").read_text()
    except OSError:
        return False
    fields = stat[stat.rfind(")") + 2 :].split()
    return fields[19] == proc[1] and fields[0] != "Z"


def _survivors(procs: set[tuple[int, str]]) -> set[tuple[int, str]]:
    deadline = time.monotonic() + LEAK_GRACE_S
    living = {p for p in procs if _alive(p)}
    while living and time.monotonic() < deadline:
        time.sleep(0.2)
        living = {p for p in living if _alive(p)}
    return living


def _delta_tables(out: Path) -> list[Path]:
    return sorted(p.parent for p in out.rglob("_delta_log") if p.is_dir())


def _check_tables(out: Path) -> None:
    """Every table reads at its latest version; every run.json's pins hold their rows."""
    for table in _delta_tables(out):
        pa.table(DeltaTable(str(table)).to_pyarrow_table())
    for manifest_path in out.rglob("run.json"):
        manifest = read_manifest(manifest_path)
        for ref in (*manifest.inputs, *manifest.outputs):
            uri = manifest_path.parent / ref.path if ref.path else Path(ref.uri)
            rows = pa.table(DeltaTable(str(uri), version=ref.delta_version).to_pyarrow_table())
            assert fingerprint(rows) == ref.fingerprint, (manifest_path, ref.table)


def _fingerprints(out: Path) -> dict[str, str]:
    """The fingerprint of every pinned table, ``evidence_summary`` without its
    ``delta_version`` column: it names the evidence version the run read, which grows with
    every commit into the folder (killed runs' commits included), not the content."""
    prints = {}
    for manifest_path in sorted(out.rglob("run.json")):
        manifest = read_manifest(manifest_path)
        side = manifest_path.parent.relative_to(out).as_posix()
        for ref in (*manifest.inputs, *manifest.outputs):
            uri = manifest_path.parent / ref.path if ref.path else Path(ref.uri)
            rows = pa.table(DeltaTable(str(uri), version=ref.delta_version).to_pyarrow_table())
            if "delta_version" in rows.column_names:
                rows = rows.drop_columns(["delta_version"])
            prints[f"{side}:{ref.table}"] = fingerprint(rows)
    return prints


def _files_scanned(out: Path) -> set[int]:
    return {read_manifest(p).repo.files for p in out.rglob("run.json")}


def _commits(out: Path, since: float) -> list[Path]:
    """The Delta log entries written under ``out`` since ``since`` (wall clock)."""
    found = []
    # os.walk, not glob: the run deletes its scratch folders while we look.
    for folder, dirs, names in os.walk(out):
        dirs[:] = [d for d in dirs if d != "work"]  # scip-python's scratch, no tables
        if Path(folder).name != "_delta_log":
            continue
        for name in names:
            log = Path(folder) / name
            with contextlib.suppress(OSError):
                if name.endswith(".json") and log.stat().st_mtime >= since:
                    found.append(log)
    return found


def _phase(out: Path, started: float) -> str:
    """Where the run was when it died, from what it had committed by then."""
    commits = _commits(out, started)
    if not commits:
        return "extraction/scip"
    if all("evidence" in c.parts for c in commits):
        return "evidence commits"
    return "output commits"


def _run(command: Command, repo: Path, out: Path, env: dict[str, str]) -> float:
    started = time.monotonic()
    done = subprocess.run(
        _argv(command, repo, out),
        env=env,
        capture_output=True,
        text=True,
        timeout=RUN_LIMIT_S,
        check=False,
    )
    assert done.returncode == 0, (command.name, done.returncode, done.stderr[-2000:])
    return time.monotonic() - started


@pytest.mark.parametrize("command", COMMANDS, ids=[c.name for c in COMMANDS])
def test_kill_at_random_moments_loses_and_leaks_nothing(
    command: Command, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = _make_repo(tmp_path)
    out = repo / "runs" / "out"  # inside the repo: the scratch copies must not be rescanned
    env = _env(tmp_path / "cache")
    fresh_start = time.time()
    _run(command, repo, out, env)  # a fresh folder: every table is created (one commit each)
    commits_per_run = len(_commits(out, fresh_start))
    reference_s = _run(command, repo, out, env)  # warm and unchanged: commits nothing
    reference = _fingerprints(out)
    files = _files_scanned(out)
    assert len(reference) >= 15 and len(files) == 1 and commits_per_run >= 15
    rng = random.Random(f"kill-{command.name}")
    phases: Counter[str] = Counter()
    for i in range(KILLS_PER_COMMAND):
        # Alternate a warm cache and a cold one, so kills also land during extraction.
        if i % 2:
            shutil.rmtree(tmp_path / "cache", ignore_errors=True)
        _edit(repo, 1 + i % 2)  # never the content now committed: the run merges
        # A third of the kills at a random moment (extraction and scip-python take most of
        # a run), the rest right after a random one of the run's Delta commits.
        delay = rng.uniform(0.05, reference_s)
        after_commit = rng.randint(1, commits_per_run) if i % 3 else None
        started_wall = time.time()
        proc = subprocess.Popen(
            _argv(command, repo, out),
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + (RUN_LIMIT_S if after_commit else delay)
        children: set[tuple[int, str]] = set()
        while time.monotonic() < deadline and proc.poll() is None:
            if after_commit and len(_commits(out, started_wall)) >= after_commit:
                break
            children |= _descendants(proc.pid)
            time.sleep(0.005 if after_commit else 0.05)
        children |= _descendants(proc.pid)
        finished = proc.poll() is not None
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(signal.SIGKILL)
        proc.wait()
        phases["after the end" if finished else _phase(out, started_wall)] += 1
        leaked = _survivors(children)
        when = f"after commit {after_commit}" if after_commit else f"after {delay:.2f}s"
        assert not leaked, f"kill {i} {when} left processes alive: {leaked}"
        _check_tables(out)
        if i % 5 == 4 or i == KILLS_PER_COMMAND - 1:
            _edit(repo, 0)
            _run(command, repo, out, env)
            assert _fingerprints(out) == reference, f"rerun after kill {i} differs"
            assert _files_scanned(out) == files
    with capsys.disabled():
        print(f"\n{command.name}: {KILLS_PER_COMMAND} kills, reference run {reference_s:.1f}s")
        for phase, n in sorted(phases.items()):
            print(f"  {phase:<18} {n}")
    assert sum(phases.values()) == KILLS_PER_COMMAND
