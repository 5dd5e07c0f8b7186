"""The hostile corpus in CI (issue 18, part 4): every kind of ``hostile_corpus.KINDS`` ends in
an allowed exit code with its expected code shown, never exit 4, never a traceback or a Rust
panic, never past its time limit; an error says so in a few lines of stderr.

Exit 4 stays for faults of codeanatomy's own code: ``test_a_planted_fault_is_an_internal_error``
plants one on the build path and checks that it is reported as such (and that ``--debug``
shows its traceback).

``pytest -s`` prints the table of every command run (kind, command, exit, code, seconds);
the table is also written as JSON and Markdown to ``reports/hostile_corpus.{json,md}``, or
to ``$CODEANATOMY_CORPUS_TABLE`` (and the ``.md`` beside it).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import pytest

from tests.e2e.hostile_corpus import IS_ROOT, KINDS, Kind, Setup, Step

pytestmark = pytest.mark.slow

ROOT = Path(__file__).parents[2]
CLI = Path(sys.executable).parent / "codeanatomy"
PANIC_MARKERS = ("panicked at", "RUST_BACKTRACE", "stack backtrace")
MAX_ERROR_LINES = 3
BOX_BORDERS = " \t─│╭╮╰╯"
"""Characters of the border rich draws around click's usage errors (not a message)."""
TABLE_ENV = "CODEANATOMY_CORPUS_TABLE"
REPORTS = Path(__file__).resolve().parents[2] / "reports"


@dataclass(frozen=True)
class Row:
    """One command of the corpus as the table shows it."""

    kind: str
    group: str
    command: str
    exit: int | None  # None: killed at the time limit
    code: str
    seconds: float
    ok: bool


ROWS: list[Row] = []
FAILED_KINDS: set[str] = set()


@pytest.fixture(scope="module", autouse=True)
def _table() -> Iterator[None]:
    yield
    if not ROWS:
        return
    lines = ["", "| kind | command | exit | code | seconds | ok |", "|---|---|---|---|---|---|"]
    for row in ROWS:
        shown = "timeout" if row.exit is None else str(row.exit)
        name = row.kind.replace("|", "\\|")
        lines.append(
            f"| {row.group}: {name} | {row.command} | {shown} | {row.code or '-'} | "
            f"{row.seconds:.1f} | {'yes' if row.ok else 'NO'} |"
        )
    kinds = {r.kind for r in ROWS}
    lines.append(
        f"\n{len(kinds)} kinds, {len(ROWS)} commands, {len(FAILED_KINDS)} kinds failing, "
        f"{sum(r.exit == 4 for r in ROWS)} exit 4, {sum(r.exit is None for r in ROWS)} timeouts"
    )
    print("\n".join(lines))
    # Always kept (reports/ is not tracked): the evidence of the run, as JSON and Markdown.
    target = Path(os.environ.get(TABLE_ENV) or REPORTS / "hostile_corpus.json")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps([asdict(r) for r in ROWS], indent=2) + "\n", encoding="utf-8")
    target.with_suffix(".md").write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.fixture(scope="session")
def corpus_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The caller's environment without codeanatomy's variables (no kill switch, backend or
    debug setting leaks in), a private extraction cache, and a wide terminal so that one
    message is one line of stderr."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CODEANATOMY_")}
    env["CODEANATOMY_CACHE"] = str(tmp_path_factory.mktemp("corpus-cache"))
    env["COLUMNS"] = "240"
    return env


@pytest.fixture(scope="session")
def pristine_runs(tmp_path_factory: pytest.TempPathFactory, corpus_env: dict[str, str]) -> Path:
    """Two runs of ``golden_repos/oop`` (``legacy/`` and ``rust/``) that group B copies and
    damages."""
    root = tmp_path_factory.mktemp("pristine")
    for backend in ("legacy", "rust"):
        done = subprocess.run(
            [
                str(CLI),
                "build",
                str(ROOT / "golden_repos" / "oop"),
                "--out",
                backend,
                "--backend",
                backend,
                "--no-cache",
                "--workers",
                "1",
                "--json",
            ],
            check=False,
            cwd=root,
            env=corpus_env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, done.stderr[-2000:]
    return root


def test_the_corpus_has_at_least_60_kinds_with_unique_names() -> None:
    names = [k.name for k in KINDS]
    assert len(names) >= 60, len(names)
    assert len(set(names)) == len(names), sorted(n for n in names if names.count(n) > 1)
    assert {k.group for k in KINDS} == {"A", "B", "C", "D"}


def _run(
    argv: list[str | bytes], cwd: Path, env: dict[str, str], limit: float
) -> tuple[int | None, str, str, float]:
    """Run the command in its own session; at the limit kill it and everything it started
    (worker processes would otherwise keep its pipes open)."""
    started = time.monotonic()
    with subprocess.Popen(
        argv,
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    ) as proc:
        try:
            out, err = proc.communicate(timeout=limit)
            code: int | None = proc.returncode
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            out, err = proc.communicate()
            code = None
    seconds = time.monotonic() - started
    return code, out.decode("utf-8", "replace"), err.decode("utf-8", "replace"), seconds


def _shown_code(step: Step, stdout: str, stderr: str) -> str:
    """The expected code found, else what the JSON answer says (error code or warnings)."""
    for code in step.expect:
        if code in stdout or code in stderr:
            return code
    try:
        answer = json.loads(stdout)
    except ValueError:
        return ""
    if isinstance(answer, dict):
        error = answer.get("error")
        if isinstance(error, dict):
            return str(error.get("code", ""))
        warnings = answer.get("warnings_by_code")
        if isinstance(warnings, dict):
            return ",".join(sorted(warnings))
    return ""


def _show(argv: tuple[str | bytes, ...]) -> str:
    words = [a.decode("utf-8", "backslashreplace") if isinstance(a, bytes) else a for a in argv]
    return " ".join(words)


def _message_lines(stderr: str) -> list[str]:
    """The lines of stderr that say something (not blank, not only a box border)."""
    return [line for line in stderr.splitlines() if line.strip(BOX_BORDERS)]


def _problems(step: Step, code: int | None, stdout: str, stderr: str, limit: float) -> list[str]:
    where = f"`codeanatomy {_show(step.argv)}` (in {step.cwd})"
    if code is None:
        return [f"{where}: ran past its limit of {limit:g} s"]
    problems = []
    first = next((line for line in stderr.splitlines() if line.strip()), "")
    if code == 4:
        problems.append(f"{where}: exit 4 (internal error): {first}")
    elif code not in step.allowed:
        problems.append(f"{where}: exit {code}, allowed {step.allowed}: {first}")
    for stream, text in (("stdout", stdout), ("stderr", stderr)):
        if "Traceback" in text:
            problems.append(f"{where}: a traceback on {stream}: {text[-1500:]}")
        for marker in PANIC_MARKERS:
            if marker in text:
                problems.append(f"{where}: Rust panic text {marker!r} on {stream}")
    if step.expect and not any(c in stdout or c in stderr for c in step.expect):
        problems.append(
            f"{where}: none of {list(step.expect)} in the output (exit {code}): "
            f"{first or stdout[:300]}"
        )
    if code >= 2:
        lines = _message_lines(stderr)
        if not lines:
            problems.append(f"{where}: exit {code} without a message on stderr")
        elif len(lines) > MAX_ERROR_LINES:
            problems.append(
                f"{where}: exit {code} with {len(lines)} lines of stderr "
                f"(at most {MAX_ERROR_LINES}): {stderr[:600]}"
            )
    return problems


@pytest.mark.parametrize("kind", KINDS, ids=[k.name for k in KINDS])
def test_hostile_kind(
    kind: Kind, tmp_path: Path, corpus_env: dict[str, str], request: pytest.FixtureRequest
) -> None:
    if kind.needs_non_root and IS_ROOT:
        pytest.skip("permission bits do not bind root")
    runs = request.getfixturevalue("pristine_runs") if kind.needs_runs else None
    setup = Setup(tmp=tmp_path / "case", runs=runs)
    setup.tmp.mkdir()
    problems: list[str] = []
    try:
        with setup.stack:
            for step in kind.build(setup):
                code, stdout, stderr, seconds = _run(
                    [str(CLI), *step.argv],
                    setup.tmp / step.cwd,
                    {**corpus_env, **step.env},
                    kind.limit_s,
                )
                found = _problems(step, code, stdout, stderr, kind.limit_s)
                problems += found
                ROWS.append(
                    Row(
                        kind=kind.name,
                        group=kind.group,
                        command=step.label,
                        exit=code,
                        code=_shown_code(step, stdout, stderr),
                        seconds=round(seconds, 2),
                        ok=not found,
                    )
                )
        problems += [message for check in setup.checks if (message := check()) is not None]
    finally:
        for cleanup in reversed(setup.cleanups):
            cleanup()
    if problems:
        FAILED_KINDS.add(kind.name)
    assert not problems, "\n".join(problems)


# A fault of codeanatomy's own code on the build path: the manifest cannot be built.
PLANTED = """
import sys
import harness.run.build as target

def planted(*args, **kwargs):
    raise RuntimeError("planted")

target.build_manifest = planted
from harness.cli import main

sys.argv = ["codeanatomy", *sys.argv[1:]]
main()
"""


@pytest.mark.parametrize("debug", [False, True], ids=["plain", "--debug"])
def test_a_planted_fault_is_an_internal_error(
    debug: bool, tmp_path: Path, corpus_env: dict[str, str]
) -> None:
    (tmp_path / "repo").mkdir()
    (tmp_path / "repo" / "m.py").write_text("def f() -> int:\n    return 1\n", encoding="utf-8")
    argv = [
        *(["--debug"] if debug else []),
        "build",
        "repo",
        "--out",
        "out",
        "--backend",
        "legacy",
        "--no-cache",
        "--workers",
        "1",
    ]
    code, stdout, stderr, _ = _run(
        [sys.executable, "-c", PLANTED, *argv], tmp_path, corpus_env, 120.0
    )
    assert code == 4, (code, stderr[-2000:])
    named = [line for line in stderr.splitlines() if "planted" in line]
    assert any("internal error" in line and "RuntimeError" in line for line in named), stderr
    if debug:
        assert "Traceback" in stderr, stderr
        assert "RuntimeError: planted" in stderr
    else:
        assert "Traceback" not in stderr + stdout, stderr
        assert len(named) == 1, stderr
        assert len(_message_lines(stderr)) <= MAX_ERROR_LINES
