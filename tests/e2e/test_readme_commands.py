"""Every command line the README documents runs (issue 15, part 7).

The ``uv run codeanatomy ...`` lines of README.md's code blocks are a synopsis: ``a|b`` (or
``a | b``) are alternatives, ``[...]`` is optional, an indented line continues the one above.
Each line is expanded into every alternative, with every optional part given, and run in the
README's order (a build before the plan of its evidence, the shadow run before the comparison
of its two sides) from a scratch folder that holds the README's paths: ``path/to/repo``,
``repoA`` and ``repoB`` are small repositories written here, ``out/...`` and ``reports/...``
scratch folders, ``parity.toml`` a policy. None may end in an internal error (exit 4) or show
a traceback; the commands that build, compare or configure must succeed.
"""

from __future__ import annotations

import itertools
import os
import re
import shlex
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.exit_codes import EXIT_GATE_FAILED, EXIT_OK, EXIT_USAGE

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
PREFIX = ("uv", "run", "codeanatomy")

NETWORK = {("golden", "fetch"): "downloads the pinned sdists from PyPI (network)"}
"""Lines not run, and why."""

# The README's placeholders and what they become in the scratch folder.
PLACEHOLDERS = {
    "PATH": "path/to/repo",
    "SECONDS": "600",
    "out/runA": "out/parity/repoA/legacy",  # the two sides of the shadow run above it
    "out/runB": "out/parity/repoA/rust",
}
# Gates run every golden repository when none is named: they are given the small one.
GATE_REPOS = ("path/to/repo",)
# Commands whose result is a verdict on evidence this scratch folder lacks (benchmarks, a run
# history, fresh gate verdicts): a failed gate (1) or a missing input (2) may be their answer.
VERDICTS = {"gate", "release"}

REPO = {
    "pkg/__init__.py": "from pkg.shapes import Square\n\n__all__ = ['Square']\n",
    "pkg/shapes.py": (
        "import math\n\n\n"
        "class Square:\n"
        "    def __init__(self, side: float) -> None:\n"
        "        self.side = side\n\n"
        "    def area(self) -> float:\n"
        "        return math.pow(self.side, 2)\n"
    ),
    "main.py": "from pkg import Square\n\nprint(Square(2).area())\n",
}


def _synopses(readme: str) -> Iterator[list[str]]:
    """The tokens of each documented ``uv run codeanatomy`` line (continuations joined,
    comments dropped)."""
    for block in re.findall(r"^```[a-z]*\n(.*?)^```", readme, flags=re.S | re.M):
        current: list[str] | None = None
        for line in block.splitlines():
            if line.startswith(" ".join(PREFIX) + " "):
                if current is not None:
                    yield current
                current = shlex.split(line, comments=True)[len(PREFIX) :]
            elif current is not None and line[:1].isspace() and line.strip():
                current += shlex.split(line, comments=True)
            elif current is not None:
                yield current
                current = None
        if current is not None:
            yield current


def _items(tokens: list[str], optional: bool) -> list[list[list[str]]]:
    """Each position of a synopsis as its alternatives (each a list of tokens): ``a|b`` and
    ``a | b`` are alternatives; an optional ``[...]`` is given when ``optional`` is true, else
    left out."""
    items: list[list[list[str]]] = []
    group: list[str] | None = None
    join = False
    for token in tokens:
        if group is not None or token.startswith("["):
            group = [*(group or []), token]
            if token.endswith("]"):
                inner = " ".join(group)[1:-1].split()
                items.append([inner if optional else []])
                group = None
            continue
        if token == "|":
            join = True
            continue
        choices = [[choice] for choice in token.split("|")]
        if join:
            items[-1] += choices
            join = False
        else:
            items.append(choices)
    return items


def expand(tokens: list[str]) -> list[list[str]]:
    """Every command line a synopsis stands for, placeholders replaced: each alternative,
    without the optional parts and with all of them."""
    out: list[list[str]] = []
    for optional in (False, True):
        for combination in itertools.product(*_items(tokens, optional)):
            argv = [PLACEHOLDERS.get(t, t) for part in combination for t in part]
            if argv[:1] == ["gate"]:
                argv += GATE_REPOS
            if argv not in out:
                out.append(argv)
    return out


def readme_commands() -> list[list[str]]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    return [argv for tokens in _synopses(readme) for argv in expand(tokens)]


def test_the_synopsis_grammar_expands_to_every_alternative() -> None:
    assert expand(["killswitch", "status", "|", "release"]) == [
        ["killswitch", "status"],
        ["killswitch", "release"],
    ]
    assert expand(["build", "x", "--backend", "rust|legacy", "[--views]", "[--out", "o]"]) == [
        ["build", "x", "--backend", "rust"],
        ["build", "x", "--backend", "legacy"],
        ["build", "x", "--backend", "rust", "--views", "--out", "o"],
        ["build", "x", "--backend", "legacy", "--views", "--out", "o"],
    ]
    assert expand(["preflight", "[PATH]"]) == [["preflight"], ["preflight", "path/to/repo"]]


def test_the_readme_documents_every_command() -> None:
    documented = {argv[0] for argv in readme_commands()}
    assert documented >= {
        "build", "plan", "shadow", "compare", "gate", "status", "release", "extract",
        "golden", "version", "preflight", "killswitch", "config",
    }  # fmt: skip


def _write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def _scratch(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    work = tmp_path / "work"
    for repo in ("path/to/repo", "repoA", "repoB"):
        _write(work / repo, REPO)
    (work / "repoB" / "extra.py").write_text("def extra() -> int:\n    return 1\n")
    (work / "parity.toml").write_text("version = 1\n", encoding="utf-8")
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("CODEANATOMY_") and k not in ("RUST_BACKTRACE", "FORCE_COLOR")
    }
    # A home of its own: --install-completion writes into it, the extraction cache too.
    env |= {"HOME": str(tmp_path / "home"), "CI": "true", "SHELL": "/bin/bash"}
    return work, env


def _cli() -> list[str]:
    script = Path(sys.executable).parent / "codeanatomy"
    return [str(script)] if script.is_file() else [sys.executable, "-m", "harness.cli"]


def test_every_documented_command_line_runs(tmp_path: Path) -> None:
    work, env = _scratch(tmp_path)
    problems = []
    ran = skipped = 0
    for argv in readme_commands():
        if tuple(argv[:2]) in NETWORK:
            skipped += 1
            continue
        done = subprocess.run(
            [*_cli(), *argv],
            cwd=work,
            env=env,
            capture_output=True,
            text=True,
            timeout=1200,
            check=False,
        )
        ran += 1
        line = "codeanatomy " + shlex.join(argv)
        output = done.stdout + done.stderr
        allowed = {EXIT_OK, EXIT_GATE_FAILED, EXIT_USAGE} if argv[0] in VERDICTS else {EXIT_OK}
        if done.returncode not in allowed or "Traceback" in output:
            problems.append(f"{line}: exit {done.returncode}\n{output[-2000:]}")
    assert skipped == len(NETWORK)
    assert ran > 20
    assert not problems, "\n\n".join(problems)
