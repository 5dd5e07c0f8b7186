"""The hostile corpus (issue 18, part 4): inputs built to break codeanatomy, one kind each.

Each :class:`Kind` creates its hostile input in a fresh temporary folder and returns the
command lines to run against it (:class:`Step`), each with the exit codes it may end in and
the codes or texts of which one must appear on stdout or stderr (a warning code of the
``--json`` summary, the code of the ``{"error": ...}`` object, a preflight problem kind).
``tests/e2e/test_hostile_corpus.py`` runs every step in a subprocess with the kind's time
limit: never exit 4, never a traceback or a Rust panic, never past the limit.

Four groups:

- ``A`` hostile analysed repositories: ``extract``, ``build --backend legacy``,
  ``build --backend rust`` and ``preflight`` on a small repository (one ordinary module) with
  one hostile feature;
- ``B`` damaged run folders for ``compare RUN_A RUN_B`` and ``plan --evidence``: copies of two
  pristine runs of ``golden_repos/oop`` (one per backend, built once per session), damaged;
- ``C`` bad command-line options and output folders;
- ``D`` configuration, parity policy and kill switch.

Paths in the command lines are relative to the kind's folder (the subprocess runs there) or
to ``Step.cwd`` when the step runs elsewhere.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import stat
import sys
from collections.abc import Callable, Mapping
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from tests.e2e.test_hostile_inputs import (
    _ORDINARY,
    _deep_brackets,
    _deep_parens,
    _deep_tree,
    _dev_zero,
    _fifo_behind_link,
    _fifo_py,
    _fifo_requirements,
    _huge_file,
    _non_utf8_names,
    _write,
    remove_deep_tree,
)

DEFAULT_LIMIT_S: Final = 60.0
LONG_LIMIT_S: Final = 120.0
IS_ROOT: Final = os.geteuid() == 0
"""Permission bits do not stop root: the unreadable-file cases expect no warning then."""

Argv = tuple[str | bytes, ...]


@dataclass(frozen=True)
class Step:
    """One command line of a kind and what it may end in."""

    label: str
    argv: Argv
    allowed: tuple[int, ...]
    expect: tuple[str, ...] = ()
    """One of these must appear on stdout or stderr (empty: nothing is required)."""
    cwd: str = "."
    """Where the command runs, relative to the kind's folder."""
    env: Mapping[str, str] = field(default_factory=dict)
    """Environment variables set for this command (on top of the test's clean environment)."""


@dataclass
class Setup:
    """What a kind's builder gets: its folder, the pristine runs (group B and the policy
    cases) and hooks to undo what it did or check what must not have happened."""

    tmp: Path
    runs: Path | None = None
    """A folder holding the pristine runs ``legacy/`` and ``rust/`` (None: not needed)."""
    cleanups: list[Callable[[], None]] = field(default_factory=list)
    checks: list[Callable[[], str | None]] = field(default_factory=list)
    """Run after the steps; each returns a failure message or None."""
    stack: ExitStack = field(default_factory=ExitStack)
    """Context managers held while the steps run (a lock of another build)."""

    def pristine_runs(self) -> Path:
        if self.runs is None:
            raise RuntimeError("this kind needs the pristine runs (Kind.needs_runs)")
        return self.runs


@dataclass(frozen=True)
class Kind:
    """One kind of hostile input: how to make it and the commands to run on it."""

    name: str
    group: str
    build: Callable[[Setup], list[Step]]
    limit_s: float = DEFAULT_LIMIT_S
    """The time limit of each of its commands."""
    needs_runs: bool = False
    needs_non_root: bool = False
    """Permission bits do not apply to root: the kind is skipped there."""


KINDS: list[Kind] = []


def _kind(
    name: str,
    group: str,
    *,
    limit_s: float = DEFAULT_LIMIT_S,
    needs_runs: bool = False,
    needs_non_root: bool = False,
) -> Callable[[Callable[[Setup], list[Step]]], Callable[[Setup], list[Step]]]:
    def register(build: Callable[[Setup], list[Step]]) -> Callable[[Setup], list[Step]]:
        KINDS.append(Kind(name, group, build, limit_s, needs_runs, needs_non_root))
        return build

    return register


def _write_bytes(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def _small_repo(s: Setup, name: str = "repo") -> Path:
    repo = s.tmp / name
    repo.mkdir(exist_ok=True)
    _write(repo / "ordinary.py", _ORDINARY)
    return repo


def _sentinel_module(target: Path) -> str:
    """Python that leaves ``target`` behind when it is ever imported or run."""
    return f"import pathlib\npathlib.Path({str(target)!r}).write_text('imported')\n"


def _no_file(path: Path, what: str) -> Callable[[], str | None]:
    def check() -> str | None:
        return f"{what}: {path.name} was written" if path.exists() else None

    return check


# --------------------------------------------------------------------------------------------
# A. Hostile analysed repositories: extract, build with both backends, preflight.
# --------------------------------------------------------------------------------------------

_EXTRACT = ("--no-cache", "--workers", "1", "--json")


def repo_steps(
    repo: str = "repo",
    *,
    expect: tuple[str, ...] = (),
    preflight_expect: tuple[str, ...] = (),
    allowed: tuple[int, ...] = (0,),
    cwd: str = ".",
    out_prefix: str = "",
) -> list[Step]:
    """``build --backend legacy``, ``build --backend rust`` and ``preflight`` of ``repo``;
    both builds must show one of ``expect``. (Each build runs the whole extraction; the
    ``extract`` command, the same runner, is exercised by the option and path kinds.)"""
    return [
        Step(
            "build legacy",
            ("build", repo, "--out", f"{out_prefix}out-legacy", "--backend", "legacy", *_EXTRACT),
            allowed,
            expect,
            cwd,
        ),
        Step(
            "build rust",
            ("build", repo, "--out", f"{out_prefix}out-rust", "--backend", "rust", *_EXTRACT),
            allowed,
            expect,
            cwd,
        ),
        # 1: the deletion gate fails closed on a file it could not check.
        Step("preflight", ("preflight", repo, "--json"), (0, 1), preflight_expect, cwd),
    ]


def _repo_kind(
    name: str,
    make: Callable[[Path], None],
    expect: tuple[str, ...] = (),
    preflight_expect: tuple[str, ...] = (),
    *,
    limit_s: float = DEFAULT_LIMIT_S,
    cleanup: Callable[[Path], None] | None = None,
) -> None:
    def build(s: Setup) -> list[Step]:
        repo = _small_repo(s)
        if cleanup is not None:
            s.cleanups.append(lambda: cleanup(repo))
        make(repo)
        return repo_steps(expect=expect, preflight_expect=preflight_expect)

    KINDS.append(Kind(name, "A", build, limit_s))


def _text(name: str, body: str) -> Callable[[Path], None]:
    def make(repo: Path) -> None:
        _write(repo / name, body)

    return make


def _raw(name: str, body: bytes) -> Callable[[Path], None]:
    def make(repo: Path) -> None:
        _write_bytes(repo / name, body)

    return make


def _link(name: str, target: str) -> Callable[[Path], None]:
    def make(repo: Path) -> None:
        (repo / name).symlink_to(target)

    return make


def _link_to_outside_dir(repo: Path) -> None:
    outside = repo.parent / "outside"
    _write(outside / "secret.py", "TOKEN = 'outside the repository'\n")
    (repo / "linked").symlink_to(outside, target_is_directory=True)


def _link_loops(repo: Path) -> None:
    (repo / "a.py").symlink_to("b.py")
    (repo / "b.py").symlink_to("a.py")
    (repo / "self.py").symlink_to("self.py")


def _dir_link_loop(repo: Path) -> None:
    (repo / "pkg").mkdir()
    _write(repo / "pkg" / "m.py", "y = 2\n")
    (repo / "pkg" / "again").symlink_to("..", target_is_directory=True)
    (repo / "root").symlink_to(".", target_is_directory=True)


def _unreadable_file(repo: Path) -> None:
    _write(repo / "secret.py", "x = 1\n")
    (repo / "secret.py").chmod(0)


def _unreadable_dir(repo: Path) -> None:
    _write(repo / "locked" / "m.py", "x = 1\n")
    (repo / "locked").chmod(0)


def _restore_modes(repo: Path) -> None:
    for name in ("secret.py", "locked"):
        path = repo / name
        if path.exists() or path.is_symlink():
            path.chmod(stat.S_IRWXU)


def _py_directory(repo: Path) -> None:
    (repo / "weird.py").mkdir()
    _write(repo / "weird.py" / "notes.txt", "a folder named like a module\n")


def _only_init(repo: Path) -> None:
    (repo / "ordinary.py").unlink()
    (repo / "__init__.py").touch()


def _pyi_only(repo: Path) -> None:
    (repo / "ordinary.py").unlink()
    _write(repo / "api.pyi", "def join(a: str) -> str: ...\nclass C:\n    x: int\n")


def _newline_name(repo: Path) -> None:
    _write(repo / "new\nline.py", "x = 1\n")
    _write(repo / "-rf.py", "y = 2\n")
    _write(repo / "sp ace.py", "z = 3\n")


def _pyproject_text(text: str) -> Callable[[Path], None]:
    return _text("pyproject.toml", text)


def _requirements_loop(repo: Path) -> None:
    _write(repo / "requirements.txt", "-r requirements.txt\n-r other.txt\nrequests\n")
    _write(repo / "other.txt", "-r requirements.txt\n-c other.txt\n")


def _sitecustomize(repo: Path) -> None:
    _write(repo / "sitecustomize.py", _sentinel_module(repo.parent / "SENTINEL-sitecustomize"))
    _write(repo / "usercustomize.py", _sentinel_module(repo.parent / "SENTINEL-usercustomize"))


_SIDE_EFFECT_MODULES: Final = (
    "setup.py",
    "conftest.py",
    "__main__.py",
    "noxfile.py",
    "pkg/__init__.py",
)


def _side_effects(repo: Path) -> None:
    for name in _SIDE_EFFECT_MODULES:
        tag = name.replace("/", "-")
        _write(repo / name, _sentinel_module(repo.parent / f"SENTINEL-{tag}"))


_repo_kind("fifo x.py", _fifo_py, ("SCAN_NOT_A_REGULAR_FILE",), ("not_regular_file",))
_repo_kind("fifo requirements.txt", _fifo_requirements, ("EXTERNAL_METADATA_INVALID",))
_repo_kind("y.py -> fifo", _fifo_behind_link, ("SCAN_NOT_A_REGULAR_FILE",))
_repo_kind("z.py -> /dev/zero", _dev_zero, ("SCAN_SYMLINK_ESCAPE",))
_repo_kind("passwd.py -> /etc/passwd", _link("passwd.py", "/etc/passwd"), ("SCAN_SYMLINK_ESCAPE",))
_repo_kind("link to a folder outside", _link_to_outside_dir, ("SCAN_SYMLINK_ESCAPE",))
_repo_kind("symlink loops a.py <-> b.py", _link_loops, ("SCAN_SYMLINK_LOOP",))
_repo_kind("folder symlink loops", _dir_link_loop)
_repo_kind("dangling symlink", _link("gone.py", "nowhere.py"), ("SCAN_SYMLINK_LOOP",))
_repo_kind(
    "10,000 nested (",
    _deep_parens,
    ("EXTRACT_NESTING_TOO_DEEP",),
    ("parse_error",),
    limit_s=LONG_LIMIT_S,
)
_repo_kind("10,000 nested [", _deep_brackets, ("EXTRACT_NESTING_TOO_DEEP",), limit_s=LONG_LIMIT_S)
_repo_kind(
    "100,000 chained +",
    _text("chain.py", "x = 1" + " + 1" * 100_000 + "\n"),
    ("EXTRACT_NESTING_TOO_DEEP", "EXTRACT_RECURSION_LIMIT"),
    limit_s=LONG_LIMIT_S,
)
_repo_kind(
    "5,000 nested lambdas",
    # CPython's parser gives up on these with a MemoryError (its stack), not a SyntaxError.
    _text("lam.py", "f = " + "lambda: " * 5000 + "0\n"),
    ("EXTRACT_NESTING_TOO_DEEP", "EXTRACT_RECURSION_LIMIT", "EXTRACT_SYNTAX_ERROR"),
    limit_s=LONG_LIMIT_S,
)
_repo_kind(
    "20 MB file",
    _huge_file,
    ("SCAN_FILE_TOO_LARGE",),
    ("too_large",),
    limit_s=LONG_LIMIT_S,
)
_repo_kind("1 MB single line", _text("long.py", "x = '" + "a" * 1_000_000 + "'\n"))
_repo_kind("non-UTF-8 file and folder names", _non_utf8_names, ("SCAN_PATH_NOT_UTF8",))
_repo_kind("2,000-deep folder tree", _deep_tree, cleanup=remove_deep_tree, limit_s=LONG_LIMIT_S)
_repo_kind(
    "unreadable file",
    _unreadable_file,
    () if IS_ROOT else ("SCAN_UNREADABLE",),
    cleanup=_restore_modes,
)
_repo_kind(
    "unreadable folder",
    _unreadable_dir,
    () if IS_ROOT else ("SCAN_UNREADABLE",),
    cleanup=_restore_modes,
)
_repo_kind(
    "binary .py",
    _raw("blob.py", bytes(range(256)) * 64),
    ("SCAN_BINARY_FILE", "SCAN_DECODE_ERROR"),
)
_repo_kind(
    "invalid UTF-8",
    _raw("latin.py", b"name = '\xe9t\xe9'\n"),
    ("SCAN_DECODE_ERROR",),
    ("decode_error",),
)
_repo_kind(
    "NUL bytes",
    _raw("nul.py", b"x = 1\n\x00\x00y = 2\n"),
    ("SCAN_BINARY_FILE", "SCAN_DECODE_ERROR", "EXTRACT_SYNTAX_ERROR"),
)
_repo_kind(
    "unknown coding cookie",
    _raw("cookie.py", b"# -*- coding: klingon -*-\nx = 1\n"),
    ("SCAN_DECODE_ERROR", "EXTRACT_SYNTAX_ERROR"),
)
_repo_kind(
    "syntax error",
    _text("broken.py", "def f(:\n    return\nclass\n"),
    ("EXTRACT_SYNTAX_ERROR",),
    ("parse_error",),
)
_repo_kind(
    "BOM and CRLF",
    _raw("bom.py", b"\xef\xbb\xbfimport os\r\n\r\ndef f():\r\n    return os.sep\r\n"),
)
_repo_kind("CR-only line ends", _raw("mac.py", b"x = 1\ry = 2\rdef f():\r    return x\r"))
_repo_kind(
    "bidi and zero-width characters",
    _text("trojan.py", "access = 'user\u202e \u2066# admin\u2069 \u2066'\nx\u200b = 1\n"),
    ("EXTRACT_SYNTAX_ERROR", "EXTRACT_PARTIAL_PARSE"),
)
_repo_kind("a folder named weird.py", _py_directory)
_repo_kind("only an empty __init__.py", _only_init, ("SCAN_EMPTY_FILE",))
_repo_kind(".pyi only", _pyi_only)
_repo_kind("newline, dash and space in names", _newline_name)
_repo_kind(
    'pyproject project = "x"',
    _pyproject_text('project = "x"\n'),
    ("EXTERNAL_METADATA_INVALID",),
)
_repo_kind(
    "pyproject dependencies = 3",
    _pyproject_text('[project]\nname = "x"\ndependencies = 3\n'),
    ("EXTERNAL_METADATA_INVALID",),
)
_repo_kind(
    "pyproject optional-dependencies list",
    _pyproject_text('[project]\nname = "x"\noptional-dependencies = ["a"]\n'),
    ("EXTERNAL_METADATA_INVALID",),
)
_repo_kind(
    "pyproject 1,000-deep",
    _pyproject_text("x = " + "[" * 1000 + "]" * 1000 + "\n"),
    ("EXTERNAL_METADATA_INVALID",),
    ("toml_error",),
)
_repo_kind(
    "pyproject not UTF-8",
    _raw("pyproject.toml", b'[project]\nname = "\xff\xfe"\n'),
    ("EXTERNAL_METADATA_INVALID",),
    ("toml_error", "decode_error", "unreadable"),
)
_repo_kind(
    "pyproject binary",
    _raw("pyproject.toml", bytes(range(256)) * 16),
    ("EXTERNAL_METADATA_INVALID",),
    ("toml_error", "decode_error", "unreadable"),
)
_repo_kind(
    "requirements.txt junk",
    _raw("requirements.txt", b"\x00\xff\xfe junk ===\n-e\n--index-url\n[[[\nreq @ \n"),
    ("EXTERNAL_METADATA_INVALID",),
)
_repo_kind(
    "requirements.txt 5 MB line",
    _text("requirements.txt", "a" * (5 * 1024 * 1024) + "\n"),
    ("EXTERNAL_METADATA_INVALID",),
)
_repo_kind("requirements.txt -r loop", _requirements_loop)
_repo_kind(
    "setup.cfg junk",  # not read (python_external reads pyproject.toml and requirements*.txt)
    _raw("setup.cfg", b"[metadata\nname = \xff\n[options]\ninstall_requires = = =\n\x00"),
)


@_kind("modules with import side effects (setup.py, conftest.py...)", "A")
def _side_effects_kind(s: Setup) -> list[Step]:
    repo = _small_repo(s)
    _side_effects(repo)
    for name in _SIDE_EFFECT_MODULES:
        path = s.tmp / f"SENTINEL-{name.replace('/', '-')}"
        s.checks.append(_no_file(path, "a module of the analysed repository was run"))
    return repo_steps()


@_kind("sitecustomize.py in the repo (run from inside it)", "A")
def _sitecustomize_kind(s: Setup) -> list[Step]:
    repo = _small_repo(s)
    _sitecustomize(repo)
    for tag in ("sitecustomize", "usercustomize"):
        s.checks.append(_no_file(s.tmp / f"SENTINEL-{tag}", "the repository's module ran"))
    return repo_steps(".", cwd="repo", out_prefix="../")


@_kind("stdlib names signal.py, os.py, json.py (run from inside)", "A")
def _stdlib_names(s: Setup) -> list[Step]:
    repo = _small_repo(s)
    for name in ("signal", "os", "json", "typing", "multiprocessing"):
        _write(repo / f"{name}.py", _sentinel_module(s.tmp / f"SENTINEL-{name}"))
        s.checks.append(_no_file(s.tmp / f"SENTINEL-{name}", "a stdlib module was shadowed"))
    return repo_steps(".", cwd="repo", out_prefix="../")


@_kind("the repo's codeanatomy.toml broken (run from outside)", "A")
def _repo_config_outside(s: Setup) -> list[Step]:
    repo = _small_repo(s)
    _write_bytes(repo / "codeanatomy.toml", b"[engine\nbackend = \xff\n")
    # The configuration is looked up from the working folder, not from the analysed repo.
    return repo_steps()


@_kind("the repo's codeanatomy.toml broken (run from inside)", "A")
def _repo_config_inside(s: Setup) -> list[Step]:
    repo = _small_repo(s)
    _write_bytes(repo / "codeanatomy.toml", b"[engine\nbackend = \xff\n")
    steps = repo_steps(
        ".", allowed=(2,), expect=("CONFIG_PARSE_ERROR",), cwd="repo", out_prefix="../"
    )
    # preflight does not read codeanatomy's configuration.
    return steps


@_kind("the repo's [tool.codeanatomy] invalid (run from inside)", "A")
def _repo_tool_table_inside(s: Setup) -> list[Step]:
    repo = _small_repo(s)
    _write(repo / "pyproject.toml", '[project]\nname = "x"\n[tool.codeanatomy]\nengine = 3\n')
    return repo_steps(".", allowed=(2,), expect=("CONFIG_INVALID",), cwd="repo", out_prefix="../")


@_kind("only hidden and vendored Python", "A")
def _only_hidden(s: Setup) -> list[Step]:
    repo = s.tmp / "repo"
    _write(repo / ".hidden" / "a.py", "x = 1\n")
    _write(repo / "node_modules" / "b.py", "y = 2\n")
    _write(repo / "README.md", "no Python here\n")
    steps = repo_steps(allowed=(2,), expect=("REPO_HAS_NO_PYTHON",))
    return [*steps[:3], Step("preflight", ("preflight", "repo", "--json"), (0, 1))]


# --------------------------------------------------------------------------------------------
# B. Damaged run folders: compare RUN_A RUN_B and plan --evidence.
# --------------------------------------------------------------------------------------------

_COMPARE = ("compare", "a", "b", "--json")
_PLAN = ("plan", "--evidence", "b/evidence", "--json")
_RUN_ERRORS = ("DELTA_LOG_CORRUPT", "DELTA_VERSION_MISSING", "DELTA_DATA_CORRUPT")


def _copy_runs(s: Setup) -> tuple[Path, Path]:
    runs = s.pristine_runs()
    a, b = s.tmp / "a", s.tmp / "b"
    shutil.copytree(runs / "legacy", a, symlinks=True)
    shutil.copytree(runs / "rust", b, symlinks=True)
    return a, b


def _parquet(table: Path) -> Path:
    return sorted(table.glob("*.parquet"))[0]


def _log_entry(table: Path) -> Path:
    return sorted((table / "_delta_log").glob("*.json"))[0]


def _compare(allowed: tuple[int, ...] = (3,), expect: tuple[str, ...] = _RUN_ERRORS) -> Step:
    return Step("compare", _COMPARE, allowed, expect)


def _plan(allowed: tuple[int, ...] = (2, 3), expect: tuple[str, ...] = ()) -> list[Step]:
    return [
        Step("plan legacy", _PLAN, allowed, expect),
        Step("plan rust", (*_PLAN, "--backend", "rust", "--tier", "3"), allowed, expect),
    ]


def _damage_kind(
    name: str,
    damage: Callable[[Path, Path], None],
    steps: Callable[[], list[Step]],
) -> None:
    def build(s: Setup) -> list[Step]:
        a, b = _copy_runs(s)
        damage(a, b)
        return steps()

    KINDS.append(Kind(name, "B", build, needs_runs=True))


def _garbage_log(table: str) -> Callable[[Path, Path], None]:
    def damage(a: Path, b: Path) -> None:
        _log_entry(b / table).write_text('{"commitInfo": {"timestamp": tru', encoding="utf-8")

    return damage


def _foreign_log(table: str) -> Callable[[Path, Path], None]:
    def damage(a: Path, b: Path) -> None:
        _log_entry(b / table).write_text('{"foo": 1}\n[1, 2]\n"x"\n', encoding="utf-8")

    return damage


def _empty_log(table: str) -> Callable[[Path, Path], None]:
    def damage(a: Path, b: Path) -> None:
        for entry in (b / table / "_delta_log").iterdir():
            entry.unlink()

    return damage


def _log_is_file(table: str) -> Callable[[Path, Path], None]:
    def damage(a: Path, b: Path) -> None:
        shutil.rmtree(b / table / "_delta_log")
        (b / table / "_delta_log").write_text("not a folder\n", encoding="utf-8")

    return damage


def _last_checkpoint(a: Path, b: Path) -> None:
    log = b / "outputs" / "cpg_nodes" / "_delta_log"
    (log / "_last_checkpoint").write_text('{"version": 99, "size": -1}', encoding="utf-8")


def _missing_parquet(table: str) -> Callable[[Path, Path], None]:
    def damage(a: Path, b: Path) -> None:
        _parquet(b / table).unlink()

    return damage


def _truncated_parquet(table: str) -> Callable[[Path, Path], None]:
    def damage(a: Path, b: Path) -> None:
        path = _parquet(b / table)
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 2])

    return damage


def _random_parquet(a: Path, b: Path) -> None:
    path = _parquet(b / "outputs" / "cpg_edges")
    path.write_bytes(os.urandom(path.stat().st_size))


def _fifo_parquet(a: Path, b: Path) -> None:
    path = _parquet(b / "outputs" / "cpg_edges")
    path.unlink()
    os.mkfifo(path)


def _edit_manifest(edit: Callable[[dict[str, object]], None]) -> Callable[[Path, Path], None]:
    def damage(a: Path, b: Path) -> None:
        data = json.loads((b / "run.json").read_text(encoding="utf-8"))
        edit(data)
        (b / "run.json").write_text(json.dumps(data), encoding="utf-8")

    return damage


def _wrong_types(data: dict[str, object]) -> None:
    data["manifest_version"] = "two"
    data["outputs"] = 3
    data["warnings_by_code"] = ["a"]


def _pin(version: int) -> Callable[[dict[str, object]], None]:
    def edit(data: dict[str, object]) -> None:
        outputs = data["outputs"]
        assert isinstance(outputs, list)
        outputs[0]["delta_version"] = version

    return edit


def _manifest_bytes(body: bytes) -> Callable[[Path, Path], None]:
    def damage(a: Path, b: Path) -> None:
        (b / "run.json").write_bytes(body)

    return damage


def _manifest_dir(a: Path, b: Path) -> None:
    (b / "run.json").unlink()
    (b / "run.json").mkdir()


def _manifest_missing(a: Path, b: Path) -> None:
    (b / "run.json").unlink()


def _outputs_file(a: Path, b: Path) -> None:
    shutil.rmtree(b / "outputs")
    (b / "outputs").write_text("not a folder\n", encoding="utf-8")


def _table_link(a: Path, b: Path) -> None:
    shutil.rmtree(b / "outputs" / "cpg_nodes")
    (b / "outputs" / "cpg_nodes").symlink_to(a / "outputs" / "cpg_nodes")


def _run_missing(a: Path, b: Path) -> None:
    shutil.rmtree(b)


def _run_is_file(a: Path, b: Path) -> None:
    shutil.rmtree(b)
    b.write_text("a file\n", encoding="utf-8")


def _compare_only(allowed: tuple[int, ...], expect: tuple[str, ...]) -> Callable[[], list[Step]]:
    return lambda: [_compare(allowed, expect)]


def _compare_and_plan(
    plan_allowed: tuple[int, ...] = (2, 3),
    plan_expect: tuple[str, ...] = ("EVIDENCE_MISSING", *_RUN_ERRORS),
    compare_allowed: tuple[int, ...] = (3,),
    compare_expect: tuple[str, ...] = _RUN_ERRORS,
) -> Callable[[], list[Step]]:
    return lambda: [_compare(compare_allowed, compare_expect), *_plan(plan_allowed, plan_expect)]


_OUT_NODES = "outputs/cpg_nodes"
_EV_AST = "evidence/ast"
_NOT_A_RUN = _compare_only((2,), ("NOT_A_RUN",))

_damage_kind(
    "outputs _delta_log not JSON", _garbage_log(_OUT_NODES), _compare_only((3,), _RUN_ERRORS)
)
_damage_kind("evidence _delta_log not JSON", _garbage_log(_EV_AST), _compare_and_plan())
_damage_kind(
    "_delta_log JSON of another shape", _foreign_log(_OUT_NODES), _compare_only((3,), _RUN_ERRORS)
)
_damage_kind("empty outputs _delta_log", _empty_log(_OUT_NODES), _compare_only((3,), _RUN_ERRORS))
_damage_kind("empty evidence _delta_log", _empty_log(_EV_AST), _compare_and_plan())
_damage_kind(
    "evidence _delta_log is a file",
    _log_is_file(_EV_AST),
    _compare_and_plan(
        plan_allowed=(2,),
        plan_expect=("EVIDENCE_MISSING",),
        compare_allowed=(1, 3),
        compare_expect=("TABLE_DIFFERS", *_RUN_ERRORS),
    ),
)
_damage_kind("_last_checkpoint garbage", _last_checkpoint, _compare_only((3,), _RUN_ERRORS))
_damage_kind(
    "outputs parquet missing", _missing_parquet(_OUT_NODES), _compare_only((3,), _RUN_ERRORS)
)
_damage_kind(
    "evidence parquet missing",
    _missing_parquet(_EV_AST),
    # plan reads the Delta logs only: a lost data file is not its concern.
    _compare_and_plan(plan_allowed=(0, 3), plan_expect=()),
)
_damage_kind(
    "outputs parquet truncated", _truncated_parquet(_OUT_NODES), _compare_only((3,), _RUN_ERRORS)
)
_damage_kind(
    "evidence parquet truncated",
    _truncated_parquet(_EV_AST),
    _compare_and_plan(plan_allowed=(0, 3), plan_expect=()),
)
_damage_kind("parquet of random bytes", _random_parquet, _compare_only((3,), _RUN_ERRORS))
_damage_kind("parquet replaced by a fifo", _fifo_parquet, _compare_only((3,), _RUN_ERRORS))
_damage_kind("run.json not JSON", _manifest_bytes(b"{not json"), _NOT_A_RUN)
_damage_kind("run.json empty", _manifest_bytes(b""), _NOT_A_RUN)
_damage_kind("run.json binary", _manifest_bytes(bytes(range(256)) * 8), _NOT_A_RUN)
_damage_kind("run.json 100,000-deep", _manifest_bytes(b"[" * 100_000 + b"]" * 100_000), _NOT_A_RUN)
_damage_kind("run.json wrong types", _edit_manifest(_wrong_types), _NOT_A_RUN)
_damage_kind(
    "run.json pins a missing delta_version",
    _edit_manifest(_pin(7)),
    _compare_only((3,), ("DELTA_VERSION_MISSING",)),
)
_damage_kind(
    "run.json pins delta_version -1",
    _edit_manifest(_pin(-1)),
    _compare_only((2, 3), ("DELTA_VERSION_MISSING", "NOT_A_RUN")),
)
_damage_kind(
    "run.json pins delta_version 2**64",
    _edit_manifest(_pin(2**64)),
    _compare_only((2, 3), ("DELTA_VERSION_MISSING", "NOT_A_RUN")),
)
_damage_kind("run.json is a folder", _manifest_dir, _NOT_A_RUN)
_damage_kind("run.json missing", _manifest_missing, _NOT_A_RUN)
_damage_kind(
    "outputs/ is a file",
    _outputs_file,
    _compare_only((1, 2, 3), ("TABLE_DIFFERS", "NOT_A_RUN", *_RUN_ERRORS)),
)
_damage_kind(
    "table folder is a symlink to the other run",
    _table_link,
    _compare_only((1,), ("TABLE_DIFFERS",)),  # "both sides are the same table": blocks
)
_damage_kind("the other run is missing", _run_missing, _compare_only((2,), ("RUN_NOT_FOUND",)))
_damage_kind("the other run is a file", _run_is_file, _NOT_A_RUN)


@_kind("compare a shadow root; plan --evidence on a run", "B", needs_runs=True)
def _shadow_root(s: Setup) -> list[Step]:
    runs = s.pristine_runs()
    shutil.copytree(runs, s.tmp / "shadow", symlinks=True)
    return [
        Step("compare", ("compare", "shadow", "shadow/rust", "--json"), (2,), ("NOT_A_RUN",)),
        Step(
            "plan",
            ("plan", "--evidence", "shadow/rust", "--json"),
            (2,),
            ("EVIDENCE_MISSING",),
        ),
    ]


@_kind("evidence table folder missing", "B", needs_runs=True)
def _evidence_table_missing(s: Setup) -> list[Step]:
    _, b = _copy_runs(s)
    shutil.rmtree(b / "evidence" / "ast")
    return [
        _compare((1, 3), ("TABLE_DIFFERS", *_RUN_ERRORS)),
        *_plan((2,), ("EVIDENCE_MISSING",)),
    ]


# --------------------------------------------------------------------------------------------
# C. Bad options and output folders.
# --------------------------------------------------------------------------------------------


def _three_commands(
    out: str | bytes, allowed: tuple[int, ...], expect: tuple[str, ...]
) -> list[Step]:
    """extract, build and shadow of the small repo into ``out``."""
    return [
        Step("extract", ("extract", "repo", "--out", out, *_EXTRACT), allowed, expect),
        Step(
            "build",
            ("build", "repo", "--out", out, "--backend", "legacy", *_EXTRACT),
            allowed,
            expect,
        ),
        Step("shadow", ("shadow", "repo", "--out", out, "--json"), allowed, expect),
    ]


@_kind("--out is a file", "C")
def _out_file(s: Setup) -> list[Step]:
    _small_repo(s)
    _write(s.tmp / "taken", "a file\n")
    return _three_commands("taken", (2,), ("OUT_NOT_A_DIRECTORY",))


@_kind("--out under a file", "C")
def _out_under_file(s: Setup) -> list[Step]:
    _small_repo(s)
    _write(s.tmp / "taken", "a file\n")
    return _three_commands("taken/run", (2,), ("OUT_NOT_A_DIRECTORY",))


@_kind("--out is /dev/null", "C")
def _out_dev_null(s: Setup) -> list[Step]:
    _small_repo(s)
    return _three_commands("/dev/null", (2,), ("OUT_NOT_A_DIRECTORY",))


@_kind("--out in /proc (not writable, even by root)", "C")
def _out_proc(s: Setup) -> list[Step]:
    _small_repo(s)
    return _three_commands("/proc/codeanatomy-hostile", (2,), ("OUT_NOT_WRITABLE",))


@_kind("--out read-only folder", "C", needs_non_root=True)
def _out_read_only(s: Setup) -> list[Step]:
    _small_repo(s)
    (s.tmp / "ro").mkdir()
    (s.tmp / "ro").chmod(stat.S_IRUSR | stat.S_IXUSR)
    s.cleanups.append(lambda: (s.tmp / "ro").chmod(stat.S_IRWXU))
    return _three_commands("ro/run", (2,), ("OUT_NOT_WRITABLE",))


# With no credentials anywhere, an s3:// --out is refused before any request (STORAGE_AUTH);
# a scheme codeanatomy does not test (gs://) is refused as such.
_NO_AWS_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "",
    "AWS_SECRET_ACCESS_KEY": "",
    "AWS_PROFILE": "",
    "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/aws-credentials",
}


@_kind("--out is an object-store URI", "C")
def _out_uri(s: Setup) -> list[Step]:
    _small_repo(s)
    steps = _three_commands("s3://bucket/run", (2,), ("STORAGE_AUTH",))
    steps += _three_commands("gs://bucket/run", (2,), ("STORAGE_SCHEME_UNSUPPORTED",))
    return [dataclasses.replace(step, env=_NO_AWS_CREDENTIALS) for step in steps]


@_kind("--out path not UTF-8", "C")
def _out_not_utf8(s: Setup) -> list[Step]:
    _small_repo(s)
    return _three_commands(b"out-\xff\xfe", (0, 2), ())


@_kind("--cache-dir is a file", "C")
def _cache_file(s: Setup) -> list[Step]:
    _small_repo(s)
    _write(s.tmp / "cache", "a file\n")
    argv = ("extract", "repo", "--out", "out", "--cache-dir", "cache", "--workers", "1", "--json")
    return [Step("extract", argv, (2,), ("OUT_NOT_A_DIRECTORY",))]


@_kind("--cache-dir under a file", "C")
def _cache_under_file(s: Setup) -> list[Step]:
    _small_repo(s)
    _write(s.tmp / "cache", "a file\n")
    argv = ("extract", "repo", "--out", "out", "--cache-dir", "cache/x", "--workers", "1", "--json")
    return [Step("extract", argv, (2,), ("OUT_NOT_A_DIRECTORY",))]


def _timeout_kind(value: str) -> None:
    def build(s: Setup) -> list[Step]:
        _small_repo(s)
        return [
            Step(
                "shadow",
                ("shadow", "repo", "--out", "out", "--candidate-timeout", value, "--json"),
                (2,),
                ("USAGE",),
            ),
            Step(
                "build shadow",
                (
                    "build",
                    "repo",
                    "--out",
                    "out2",
                    "--backend",
                    "shadow",
                    "--candidate-timeout",
                    value,
                    "--json",
                ),
                (2,),
                ("USAGE",),
            ),
        ]

    KINDS.append(Kind(f"--candidate-timeout {value}", "C", build))


for _value in ("inf", "nan", "1e308", "-1", "0"):
    _timeout_kind(_value)


@_kind("a second build into a user's folder (refused unless --force)", "C")
def _user_folder(s: Setup) -> list[Step]:
    _small_repo(s)
    _write(s.tmp / "mine" / "notes.txt", "my own notes\n")
    _write(s.tmp / "mine" / "run.json", '{"mine": true}\n')
    notes = s.tmp / "mine" / "notes.txt"
    s.checks.append(lambda: None if notes.is_file() else "the user's notes.txt was removed")
    build = ("build", "repo", "--out", "mine", "--backend", "legacy", *_EXTRACT)
    return [
        Step("build", build, (2,), ("OUT_NOT_OURS",)),
        Step("shadow", ("shadow", "repo", "--out", "mine", "--json"), (2,), ("OUT_NOT_OURS",)),
        Step("build --force", (*build, "--force"), (0,), ()),
    ]


@_kind("--out locked by another build", "C")
def _locked(s: Setup) -> list[Step]:
    from harness.run.lock import hold_out_folder

    _small_repo(s)
    (s.tmp / "busy").mkdir()
    # The very lock a running build holds (fcntl.flock on OUT/.codeanatomy.lock).
    s.stack.enter_context(hold_out_folder(s.tmp / "busy", "codeanatomy build"))
    build = ("build", "repo", "--out", "busy", "--backend", "legacy", *_EXTRACT)
    return [
        Step("build", build, (2,), ("OUT_BUSY",)),
        Step("build --force", (*build, "--force"), (2,), ("OUT_BUSY",)),
        Step("shadow", ("shadow", "repo", "--out", "busy", "--json"), (2,), ("OUT_BUSY",)),
    ]


def _repo_arg_kind(
    name: str, make: Callable[[Setup], str | bytes], code: str, allowed: tuple[int, ...] = (2,)
) -> None:
    def build(s: Setup) -> list[Step]:
        repo = make(s)
        expect = (code,) if code else ()
        return [
            Step("extract", ("extract", repo, "--out", "out-e", *_EXTRACT), allowed, expect),
            Step(
                "build",
                ("build", repo, "--out", "out-b", "--backend", "rust", *_EXTRACT),
                allowed,
                expect,
            ),
            Step("shadow", ("shadow", repo, "--out", "out-s", "--json"), allowed, expect),
        ]

    KINDS.append(Kind(name, "C", build))


def _a_file(s: Setup) -> str:
    _write(s.tmp / "file.py", "x = 1\n")
    return "file.py"


def _not_utf8_repo(s: Setup) -> bytes:
    raw = os.fsencode(s.tmp) + b"/repo-\xff"
    os.mkdir(raw)  # noqa: PTH102 (a bytes path)
    fd = os.open(raw + b"/ordinary.py", os.O_WRONLY | os.O_CREAT, 0o644)
    os.write(fd, _ORDINARY.encode())
    os.close(fd)
    return b"repo-\xff"


_repo_arg_kind("repository does not exist", lambda s: "missing", "REPO_NOT_FOUND")
_repo_arg_kind("repository is a file", _a_file, "REPO_NOT_A_DIRECTORY")
_repo_arg_kind("repository is a URI", lambda s: "s3://bucket/repo", "UNSUPPORTED_URI")
_repo_arg_kind("repository path not UTF-8", _not_utf8_repo, "", allowed=(0, 2))


@_kind("shadow the same repository twice", "C")
def _same_repo_twice(s: Setup) -> list[Step]:
    _small_repo(s)
    _small_repo(s, "other")
    (s.tmp / "other" / "repo").mkdir()
    _write(s.tmp / "other" / "repo" / "m.py", "x = 1\n")
    return [
        Step(
            "shadow",
            ("shadow", "repo", "repo", "--out", "out", "--json"),
            (2,),
            ("REPO_NAME_CLASH",),
        ),
        Step(
            "shadow",
            ("shadow", "repo", "other/repo", "--out", "out", "--json"),
            (2,),
            ("REPO_NAME_CLASH",),
        ),
    ]


@_kind("unknown --backend, --only, --order, gate", "C")
def _unknown_names(s: Setup) -> list[Step]:
    _small_repo(s)
    return [
        Step(
            "build",
            ("build", "repo", "--out", "o", "--backend", "java", "--json"),
            (2,),
            ("USAGE",),
        ),
        Step(
            "extract",
            ("extract", "repo", "--out", "o", "--only", "magic", "--json"),
            (2,),
            ("UNKNOWN_EXTRACTOR",),
        ),
        Step(
            "shadow",
            ("shadow", "repo", "--out", "o", "--order", "sideways", "--json"),
            (2,),
            ("USAGE",),
        ),
        Step("gate", ("gate", "nonsense", "repo", "--out", "g", "--json"), (2,), ("UNKNOWN_GATE",)),
    ]


@_kind("--workers -1 and --min-confidence-bp 10001", "C")
def _out_of_range(s: Setup) -> list[Step]:
    _small_repo(s)
    return [
        Step(
            "extract",
            ("extract", "repo", "--out", "o", "--workers", "-1", "--json"),
            (2,),
            ("--workers",),
        ),
        Step(
            "build",
            ("build", "repo", "--out", "o", "--min-confidence-bp", "10001", "--json"),
            (2,),
            ("--min-confidence-bp",),
        ),
    ]


@_kind("--config missing, a folder, a fifo", "C")
def _config_paths(s: Setup) -> list[Step]:
    _small_repo(s)
    (s.tmp / "folder.toml").mkdir()
    os.mkfifo(s.tmp / "fifo.toml")
    steps = []
    for target in ("missing.toml", "folder.toml", "fifo.toml"):
        steps.append(
            Step(
                f"build --config {target}",
                ("build", "repo", "--out", "o", "--config", target, "--json"),
                (2,),
                ("CONFIG_NOT_FOUND", "CONFIG_PARSE_ERROR"),
            ),
        )
    steps.append(
        Step(
            "config validate --config fifo.toml",
            ("config", "validate", "--config", "fifo.toml", "--json"),
            (2,),
            ("CONFIG_NOT_FOUND", "CONFIG_PARSE_ERROR"),
        ),
    )
    return steps


@_kind("plan --spec not a spec", "C")
def _bad_spec(s: Setup) -> list[Step]:
    _write_bytes(s.tmp / "garbage.json", bytes(range(256)))
    _write_bytes(s.tmp / "deep.json", b"[" * 100_000 + b"]" * 100_000)
    _write(s.tmp / "other.json", '{"spec_version": "99", "views": 3}\n')
    (s.tmp / "folder.json").mkdir()
    return [
        Step(f"plan --spec {name}", ("plan", "--spec", name, "--json"), (2,), ("SPEC_INVALID",))
        for name in ("garbage.json", "deep.json", "other.json", "folder.json", "missing.json")
    ]


@_kind("plan --spec with --evidence", "C", needs_runs=True)
def _spec_and_evidence(s: Setup) -> list[Step]:
    _copy_runs(s)
    _write(s.tmp / "spec.json", "{}\n")
    argv = ("plan", "--spec", "spec.json", "--evidence", "a/evidence", "--json")
    return [Step("plan", argv, (2,), ("USAGE",))]


@_kind("gate --out is a file", "C")
def _gate_out_file(s: Setup) -> list[Step]:
    _small_repo(s)
    _write(s.tmp / "taken", "a file\n")
    return [
        Step(
            "gate",
            ("gate", "deletion", "repo", "--out", "taken", "--json"),
            (2,),
            ("OUT_NOT_A_DIRECTORY",),
        ),
        Step(
            "golden extract",
            ("golden", "extract", "--out", "taken", "--json"),
            (2,),
            ("OUT_NOT_A_DIRECTORY",),
        ),
    ]


# --------------------------------------------------------------------------------------------
# D. Configuration, parity policy and kill switch.
# --------------------------------------------------------------------------------------------


def _config_kind(
    name: str,
    body: bytes,
    code: str,
    *,
    allowed: tuple[int, ...] = (2,),
    shadow: bool = False,
    build_expect: tuple[str, ...] | None = None,
) -> None:
    def build(s: Setup) -> list[Step]:
        _small_repo(s)
        _write_bytes(s.tmp / "codeanatomy.toml", body)
        expect = (code,) if code else ()
        steps = [
            Step("config validate", ("config", "validate", "--json"), allowed, expect),
            Step(
                "build",
                ("build", "repo", "--out", "o", "--backend", "legacy", *_EXTRACT),
                allowed,
                expect if build_expect is None else build_expect,
            ),
        ]
        if shadow:
            steps.append(
                Step("shadow", ("shadow", "repo", "--out", "s", "--json"), allowed, expect)
            )
        return steps

    KINDS.append(Kind(name, "D", build))


_config_kind("codeanatomy.toml not UTF-8", b"[engine]\nbackend = '\xff'\n", "CONFIG_PARSE_ERROR")
_config_kind("codeanatomy.toml binary", bytes(range(256)) * 4, "CONFIG_PARSE_ERROR")
_config_kind(
    "codeanatomy.toml 1,000-deep",
    b"[engine]\nbackend = " + b"[" * 1000 + b"]" * 1000 + b"\n",
    "CONFIG_",
)
_config_kind(
    "codeanatomy.toml 1,000-deep tables",
    b"[" + b".".join([b"a"] * 1000) + b"]\nx = 1\n",
    "CONFIG_",
    allowed=(0, 2),
)
_config_kind(
    "codeanatomy.toml wrong types", b"[engine]\nbackend = 3\nshadow = 'yes'\n", "CONFIG_INVALID"
)
_config_kind("codeanatomy.toml section is a string", b"engine = 'rust'\n", "CONFIG_INVALID")
_config_kind(
    "[extract] file_timeout_s = nan", b"[extract]\nfile_timeout_s = nan\n", "CONFIG_INVALID"
)
_config_kind("[extract] workers = -1", b"[extract]\nworkers = -1\n", "CONFIG_INVALID")
_config_kind(
    "[extract] max_file_bytes = 2**70",
    b"[extract]\nmax_file_bytes = 1180591620717411303424\n",
    "CONFIG_",
)
_config_kind(
    "[engine] candidate_timeout_s = inf",
    b"[engine]\ncandidate_timeout_s = inf\n",
    "CONFIG_INVALID",
    shadow=True,
)
_config_kind(
    "[engine] candidate_timeout_s = -1",
    b"[engine]\ncandidate_timeout_s = -1.0\n",
    "CONFIG_INVALID",
    shadow=True,
)
_config_kind("[engine] state_dir = 3", b"[engine]\nstate_dir = 3\n", "CONFIG_INVALID")
_config_kind("[engine] state_dir not UTF-8 escape", b'[engine]\nstate_dir = "\\udcff"\n', "CONFIG_")
_config_kind(
    "[parity] policy points at a missing file",
    b'[parity]\npolicy = "nowhere.toml"\n',
    "CONFIG_POLICY_MISSING",
    allowed=(0, 2),
    build_expect=(),  # the build's --json answer is its manifest: no configuration warnings
)


@_kind("codeanatomy.toml is a folder, a fifo, a link loop", "D")
def _config_not_a_file(s: Setup) -> list[Step]:
    _small_repo(s)
    steps = []
    for name, make in (
        ("folder", lambda p: p.mkdir()),
        ("fifo", os.mkfifo),
        ("loop", lambda p: p.symlink_to(p.name)),
    ):
        where = s.tmp / name
        where.mkdir()
        make(where / "codeanatomy.toml")
        steps.append(
            Step(
                f"config validate ({name})", ("config", "validate", "--json"), (0, 2), (), cwd=name
            )
        )
    # A build reads the configuration the same way; once is enough (the fifo: no hang).
    build = ("build", "../repo", "--out", "o", "--backend", "legacy", *_EXTRACT)
    steps.append(Step("build (fifo)", build, (0, 2), (), cwd="fifo"))
    return steps


@_kind("CODEANATOMY_BACKEND=bogus", "D")
def _env_backend(s: Setup) -> list[Step]:
    _small_repo(s)
    env = {"CODEANATOMY_BACKEND": "bogus\udcff"}
    return [
        Step(
            "config validate",
            ("config", "validate", "--json"),
            (2,),
            ("CONFIG_ENV_INVALID",),
            env=env,
        ),
        Step(
            "build",
            ("build", "repo", "--out", "o", *_EXTRACT),
            (2,),
            ("CONFIG_ENV_INVALID",),
            env=env,
        ),
    ]


# Parity policies: compare --policy, [parity] policy, shadow --policy, gate parity.


def _policy_kind(name: str, body: bytes | None, *, folder: bool = False) -> None:
    def build(s: Setup) -> list[Step]:
        _copy_runs(s)
        _small_repo(s)
        policy = s.tmp / "policy.toml"
        if folder:
            policy.mkdir()
        elif body is not None:
            _write_bytes(policy, body)
        configured = s.tmp / "configured"
        _write(configured / "codeanatomy.toml", '[parity]\npolicy = "../policy.toml"\n')
        expect = ("POLICY_INVALID",)
        return [
            Step("compare --policy", (*_COMPARE, "--policy", "policy.toml"), (2,), expect),
            Step(
                "compare ([parity] policy)",
                ("compare", "../a", "../b", "--json"),
                (2,),
                expect,
                cwd="configured",
            ),
            Step(
                "shadow --policy",
                ("shadow", "repo", "--out", "s", "--policy", "policy.toml", "--json"),
                (2,),
                expect,
            ),
            Step(
                "gate parity ([parity] policy)",
                ("gate", "parity", "../repo", "--out", "g", "--json"),
                (2,),
                expect,
                cwd="configured",
            ),
        ]

    KINDS.append(Kind(name, "D", build, needs_runs=True))


_policy_kind("policy not UTF-8", b"version = 1\n[defaults]\nsample_rows = 2\n# \xff\xfe\n")
_policy_kind("policy binary", bytes(range(256)) * 4)
_policy_kind("policy 1,000-deep", b"x = " + b"[" * 1000 + b"]" * 1000 + b"\n")
_policy_kind(
    "policy nan tolerances",
    b"[defaults]\nrow_count_tolerance = nan\n"
    b"[tables.cpg_edges.columns.confidence]\nabs_tol = nan\nrel_tol = -inf\n",
)
_policy_kind("policy sample_rows = -1", b"[defaults]\nsample_rows = -1\n")
_policy_kind("policy row_count_tolerance = -1", b"[defaults]\nrow_count_tolerance = -1.0\n")
_policy_kind(
    "policy allow entry with a bad date",
    b'[[allow]]\ntable = "cpg_nodes"\nreason = "r"\nowner = "o"\nexpires = "soon"\n',
)
_policy_kind("policy unknown table", b"[tables.no_such_table]\nrow_count_tolerance = 0.1\n")
_policy_kind("policy is a folder", None, folder=True)
_policy_kind("policy missing", None)


# Kill switch: every case names its own --state-dir (never the project's).


@_kind("killswitch --state-dir is a file", "D")
def _state_dir_file(s: Setup) -> list[Step]:
    _write(s.tmp / "state", "a file\n")
    sd = ("--state-dir", "state")
    return [
        Step(
            "engage",
            ("killswitch", "engage", "--reason", "test", *sd, "--json"),
            (2, 3),
            ("state",),
        ),
        Step("release", ("killswitch", "release", *sd, "--json"), (2, 3), ("state",)),
        Step("status", ("killswitch", "status", *sd, "--json"), (0, 2), ()),
    ]


@_kind("killswitch --state-dir under a file", "D")
def _state_dir_under_file(s: Setup) -> list[Step]:
    _write(s.tmp / "state", "a file\n")
    sd = ("--state-dir", "state/sub")
    return [
        Step(
            "engage",
            ("killswitch", "engage", "--reason", "test", *sd, "--json"),
            (2, 3),
            ("state",),
        ),
        Step("status", ("killswitch", "status", *sd, "--json"), (0, 2), ()),
    ]


@_kind("killswitch audit log is a folder", "D")
def _audit_dir(s: Setup) -> list[Step]:
    (s.tmp / "state" / "killswitch.audit.jsonl").mkdir(parents=True)
    sd = ("--state-dir", "state")
    return [
        Step(
            "engage",
            ("killswitch", "engage", "--reason", "test", *sd, "--json"),
            (2, 3),
            ("killswitch.audit.jsonl",),
        ),
        Step("status", ("killswitch", "status", *sd, "--json"), (0, 2), ()),
    ]


@_kind("killswitch state file is a folder", "D")
def _state_file_dir(s: Setup) -> list[Step]:
    (s.tmp / "state" / "killswitch.json").mkdir(parents=True)
    sd = ("--state-dir", "state")
    return [
        Step(
            "status", ("killswitch", "status", *sd, "--json"), (0,), ("KILLSWITCH_STATE_CORRUPT",)
        ),
        Step(
            "engage",
            ("killswitch", "engage", "--reason", "test", *sd, "--json"),
            (0, 2, 3),
            ("killswitch.json", "KILLSWITCH_STATE_CORRUPT"),
        ),
    ]


@_kind("killswitch state file and audit log corrupt", "D")
def _state_corrupt(s: Setup) -> list[Step]:
    _write_bytes(s.tmp / "state" / "killswitch.json", b"\xff{{ not json")
    _write_bytes(
        s.tmp / "state" / "killswitch.audit.jsonl",
        b'{"op": "engage"}\n\xff\xfe\n' + b"[" * 100_000 + b"\n",
    )
    sd = ("--state-dir", "state")
    return [
        Step(
            "status", ("killswitch", "status", *sd, "--json"), (0,), ("KILLSWITCH_STATE_CORRUPT",)
        ),
        Step("release", ("killswitch", "release", "--reason", "fix", *sd, "--json"), (0,), ()),
    ]


@_kind("killswitch reason with undecodable bytes", "D")
def _reason_bytes(s: Setup) -> list[Step]:
    sd = ("--state-dir", "state")
    return [
        Step(
            "engage",
            ("killswitch", "engage", "--reason", b"oops \xff\xfe", *sd, "--json"),
            (0, 2),
            (),
        ),
        Step("status", ("killswitch", "status", *sd, "--json"), (0,), ()),
        Step(
            "release", ("killswitch", "release", "--actor", b"\xc3\x28", *sd, "--json"), (0, 2), ()
        ),
    ]


@_kind("killswitch empty reason and actor", "D")
def _reason_empty(s: Setup) -> list[Step]:
    sd = ("--state-dir", "state")
    return [
        Step(
            "engage",
            ("killswitch", "engage", "--reason", "  ", *sd, "--json"),
            (2,),
            ("KILLSWITCH_REASON_REQUIRED",),
        ),
        Step(
            "engage",
            ("killswitch", "engage", "--reason", "r", "--actor", "", *sd, "--json"),
            (2,),
            ("KILLSWITCH_ACTOR_REQUIRED",),
        ),
    ]


@_kind("CODEANATOMY_KILL_SWITCH unrecognised", "D")
def _env_kill_switch(s: Setup) -> list[Step]:
    _small_repo(s)
    env = {"CODEANATOMY_KILL_SWITCH": "maybe\udcff"}
    return [
        Step(
            "status",
            ("killswitch", "status", "--state-dir", "state", "--json"),
            (0,),
            ("KILLSWITCH_ENV_UNRECOGNIZED",),
            env=env,
        ),
        Step(
            "build rust",
            ("build", "repo", "--out", "o", "--backend", "rust", *_EXTRACT),
            (0,),
            ("legacy",),
            env=env,
        ),
    ]


@_kind("killswitch invalid configuration without --state-dir", "D")
def _killswitch_bad_config(s: Setup) -> list[Step]:
    _write_bytes(s.tmp / "codeanatomy.toml", b"[engine]\nkill_switch = 'sometimes'\n")
    return [
        Step("engage", ("killswitch", "engage", "--reason", "r", "--json"), (2,), ("kill_switch",)),
        Step("status", ("killswitch", "status", "--json"), (2,), ("kill_switch",)),
    ]


assert len({k.name for k in KINDS}) == len(KINDS), "kind names must be unique"
if sys.platform != "linux":  # FIFOs, /proc and /dev/zero: the corpus is Linux-only
    KINDS.clear()
