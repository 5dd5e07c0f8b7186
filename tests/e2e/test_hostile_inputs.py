"""Hostile repositories never hang or crash extraction (issue 18, parts 1 and 2).

Each case builds a small repository with one hostile feature next to an ordinary module and
runs the real CLI in a subprocess with a time limit: the exit code must be 0 (with the
expected warning code in the ``--json`` summary) or 2 (with a message), never 4, never a
traceback, never past the limit. ``pytest -s`` prints the table of cases.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

CLI = Path(sys.executable).parent / "codeanatomy"
LIMIT_S = 120.0
_ORDINARY = "import os\n\n\ndef join(a: str) -> str:\n    return os.path.join(a, 'x')\n"


@dataclass(frozen=True)
class Case:
    name: str
    build: Callable[[Path], None]
    expect: str  # the warning code the --json summary must count
    preflight: bool = False


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def _fifo_py(repo: Path) -> None:
    os.mkfifo(repo / "x.py")


def _fifo_requirements(repo: Path) -> None:
    os.mkfifo(repo / "requirements.txt")


def _fifo_behind_link(repo: Path) -> None:
    os.mkfifo(repo / "pipe")
    (repo / "y.py").symlink_to("pipe")


def _dev_zero(repo: Path) -> None:
    (repo / "z.py").symlink_to("/dev/zero")


def _deep_parens(repo: Path) -> None:
    _write(repo / "deep.py", "x = " + "(" * 10_000 + ")" * 10_000 + "\n")


def _deep_brackets(repo: Path) -> None:
    _write(repo / "deep.py", "x = " + "[" * 10_000 + "]" * 10_000 + "\n")


def _huge_file(repo: Path) -> None:
    line = "def f(a, b):\n    return a + b * 2\n"
    with (repo / "huge.py").open("w", encoding="utf-8") as out:
        for _ in range(20 * 1024 * 1024 // len(line) + 1):
            out.write(line)


def _non_utf8_names(repo: Path) -> None:
    # pathlib has no bytes paths: the os functions take the raw names.
    raw = os.fsencode(repo)
    for name, body in ((b"bad\xff.py", b"x = 1\n"), (b"dir\xfe/m.py", b"y = 2\n")):
        if b"/" in name:
            os.makedirs(raw + b"/" + name.rsplit(b"/", 1)[0], exist_ok=True)  # noqa: PTH103
        fd = os.open(raw + b"/" + name, os.O_WRONLY | os.O_CREAT, 0o644)
        os.write(fd, body)
        os.close(fd)


def _deep_tree(repo: Path) -> None:
    # 2,000 levels of one-letter folders, created relative to each level (a path that long
    # is beyond what one system call accepts from the top).
    fd = os.open(repo, os.O_RDONLY)
    try:
        for _ in range(2000):
            os.mkdir("d", dir_fd=fd)
            child = os.open("d", os.O_RDONLY, dir_fd=fd)
            os.close(fd)
            fd = child
        leaf = os.open("leaf.py", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd)
        os.write(leaf, b"z = 3\n")
        os.close(leaf)
    finally:
        os.close(fd)


def remove_deep_tree(top: Path) -> None:
    """Delete a chain of nested ``d`` folders bottom-up without recursion: pytest's cleanup of
    old temporary folders (shutil.rmtree, recursive on 3.11) would raise RecursionError on
    it in some later session."""
    fd = os.open(top, os.O_RDONLY)
    fds = [fd]
    try:
        while True:
            try:
                child = os.open("d", os.O_RDONLY, dir_fd=fds[-1])
            except FileNotFoundError:
                break
            fds.append(child)
        while len(fds) > 1:
            here = fds.pop()
            for name in os.listdir(here):  # noqa: PTH208 (a directory fd, not a path)
                os.unlink(name, dir_fd=here)
            os.close(here)
            os.rmdir("d", dir_fd=fds[-1])
    finally:
        for leftover in fds:
            os.close(leftover)


def _pyproject(text: str) -> Callable[[Path], None]:
    def build(repo: Path) -> None:
        _write(repo / "pyproject.toml", text)

    return build


CASES = [
    Case("fifo x.py", _fifo_py, "SCAN_NOT_A_REGULAR_FILE", preflight=True),
    Case("fifo requirements.txt", _fifo_requirements, "EXTERNAL_METADATA_INVALID", True),
    Case("link to fifo y.py", _fifo_behind_link, "SCAN_NOT_A_REGULAR_FILE", preflight=True),
    Case("z.py -> /dev/zero", _dev_zero, "SCAN_SYMLINK_ESCAPE", preflight=True),
    Case("10,000 nested (", _deep_parens, "EXTRACT_NESTING_TOO_DEEP", preflight=True),
    Case("10,000 nested [", _deep_brackets, "EXTRACT_NESTING_TOO_DEEP"),
    Case("20 MB file", _huge_file, "SCAN_FILE_TOO_LARGE", preflight=True),
    Case("non-UTF-8 names", _non_utf8_names, "SCAN_PATH_NOT_UTF8"),
    Case("2,000-deep tree", _deep_tree, "", preflight=True),
    Case('project = "x"', _pyproject('project = "x"\n'), "EXTERNAL_METADATA_INVALID", True),
    Case(
        "dependencies = 3",
        _pyproject('[project]\nname = "x"\ndependencies = 3\n'),
        "EXTERNAL_METADATA_INVALID",
        preflight=True,
    ),
    Case(
        "optional-dependencies list",
        _pyproject('[project]\nname = "x"\noptional-dependencies = ["a"]\n'),
        "EXTERNAL_METADATA_INVALID",
        preflight=True,
    ),
    Case(
        "1,000-deep pyproject",
        _pyproject("x = " + "[" * 1000 + "]" * 1000 + "\n"),
        "EXTERNAL_METADATA_INVALID",
        preflight=True,
    ),
]
RESULTS: list[tuple[str, str, int, str, float]] = []


def _run(args: list[str], cwd: Path) -> tuple[int, str, str, float]:
    started = time.monotonic()
    try:
        done = subprocess.run(
            [str(CLI), *args],
            check=False,
            cwd=cwd,
            capture_output=True,
            text=True,
            errors="replace",
            timeout=LIMIT_S,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"codeanatomy {args[0]} ran past {LIMIT_S:g} s")
    return done.returncode, done.stdout, done.stderr, time.monotonic() - started


def _check(rc: int, stderr: str, allowed: tuple[int, ...]) -> None:
    assert "Traceback" not in stderr, stderr[-2000:]
    assert rc in allowed, f"exit {rc}: {stderr[-2000:]}"
    if rc == 2:
        assert "error" in stderr.lower()


@pytest.fixture(scope="module", autouse=True)
def _table() -> object:
    yield
    print("\n| case | command | exit | code | seconds |\n|---|---|---|---|---|")
    for row in RESULTS:
        print("| {} | {} | {} | {} | {:.1f} |".format(*row))


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_hostile_repository_is_extracted_with_a_warning(case: Case, tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    try:
        _extract_and_preflight(case, repo, tmp_path)
    finally:
        if case.build is _deep_tree:
            remove_deep_tree(repo)


def _extract_and_preflight(case: Case, repo: Path, tmp_path: Path) -> None:
    _write(repo / "ordinary.py", _ORDINARY)
    case.build(repo)
    out = tmp_path / "out"
    rc, stdout, stderr, seconds = _run(
        ["extract", str(repo), "--out", str(out), "--no-cache", "--workers", "1", "--json"],
        tmp_path,
    )
    _check(rc, stderr, (0, 2))
    codes: dict[str, int] = json.loads(stdout)["warnings_by_code"] if rc == 0 else {}
    RESULTS.append((case.name, "extract", rc, case.expect or "-", seconds))
    if rc == 0 and case.expect:
        assert codes.get(case.expect), codes
    if rc == 0:
        summary = json.loads(stdout)
        assert summary["python_files_ok"] >= 1  # the ordinary module is still extracted
    if case.preflight:
        rc, stdout, stderr, seconds = _run(["preflight", str(repo), "--json"], tmp_path)
        # 1: the gate fails closed on what it could not read; never 4, never a hang.
        _check(rc, stderr, (0, 1, 2))
        RESULTS.append((case.name, "preflight", rc, "-", seconds))


@pytest.mark.parametrize(
    "text",
    [
        'project = "x"\n',
        "x = " + "[" * 1000 + "]" * 1000 + "\n",
        '[project]\nname = "x"\ndependencies = 3\n',
    ],
    ids=["string project", "1000-deep", "int dependencies"],
)
def test_config_validate_ignores_an_unrelated_malformed_pyproject(
    text: str, tmp_path: Path
) -> None:
    _write(tmp_path / "pyproject.toml", text)
    rc, _, stderr, seconds = _run(["config", "validate"], tmp_path)
    RESULTS.append((f"config: {text[:20]!r}", "config validate", rc, "-", seconds))
    _check(rc, stderr, (0,))


def test_a_malformed_tool_table_is_a_config_error_naming_the_key(tmp_path: Path) -> None:
    _write(tmp_path / "pyproject.toml", "[tool.codeanatomy]\nextract = 3\n")
    rc, _, stderr, seconds = _run(["config", "validate"], tmp_path)
    RESULTS.append(("[tool.codeanatomy] extract = 3", "config validate", rc, "-", seconds))
    _check(rc, stderr, (2,))
    assert "[tool.codeanatomy].extract" in stderr


def test_both_backends_agree_on_the_diagnostics_of_hostile_inputs(tmp_path: Path) -> None:
    """Every warning code these cases raise reaches ``diagnostics`` with the same stage and
    rows in the legacy and the Rust backend (the Rust crate keeps its own code -> stage map)."""
    from backends.contract.codes import WARNING_CODES
    from backends.extract.runner import ExtractOptions
    from harness.compare.runs import compare_runs
    from harness.run.build import run_build
    from harness.run.request import BuildRequest

    repo = tmp_path / "repo"
    repo.mkdir()
    _write(repo / "ordinary.py", _ORDINARY)
    _fifo_py(repo)
    # 1,200 nested brackets: past the cst limit (1,000), under the size limit below.
    _write(repo / "deep.py", "x = " + "(" * 1200 + ")" * 1200 + "\n")
    _non_utf8_names(repo)
    _write(repo / "big.py", "x = 1\n" * 700)  # over the small size limit below
    _write(repo / "pyproject.toml", 'project = "x"\n')
    options = ExtractOptions(workers=1, cache_dir=tmp_path / "cache", max_file_bytes=3000)
    runs = {}
    for backend in ("legacy", "rust"):
        request = BuildRequest(repo=repo, out=tmp_path / backend, extract=options)
        runs[backend] = run_build(backend, request).manifest
    raised = set(runs["legacy"].warnings_by_code)
    expected = {
        "SCAN_NOT_A_REGULAR_FILE",
        "SCAN_FILE_TOO_LARGE",
        "SCAN_PATH_NOT_UTF8",
        "EXTRACT_NESTING_TOO_DEEP",
        "EXTERNAL_METADATA_INVALID",
    }
    assert expected <= raised <= set(WARNING_CODES)
    assert runs["rust"].warnings_by_code == runs["legacy"].warnings_by_code
    comparison = compare_runs(tmp_path / "legacy", tmp_path / "rust")
    differing = [(t.stage, t.table, t.reasons) for t in comparison.tables if t.severity != "ok"]
    assert differing == []
