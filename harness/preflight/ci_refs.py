"""Legacy references in CI files: ``.github/workflows/*.yml|yaml``, ``.gitlab-ci.yml``,
everything under ``.ci/``, and the root ``Makefile`` and ``tox.ini`` (this repository's CI
runs ``make test``).

These files are shell and YAML, not Python, so there is no syntax tree to read: a token match
of the legacy module names, their path spellings and distribution names at name boundaries is
the static reading (``stack.ci_tokens``). Whole-line ``#`` comments are skipped; prose written
in lower case that spells a module name exactly (``hamilton``) is reported, which is rare in
CI files and is what a reviewer wants to see before deleting the legacy stack.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from harness.preflight.hints import config_hint
from harness.preflight.report import Blocker, Problem
from harness.preflight.stack import ci_tokens

NOTE = (
    "CI files are not Python: they are matched token by token on legacy module, path and "
    "distribution names at name boundaries (whole-line # comments skipped), not parsed."
)
_ROOT_FILES = ("Makefile", "tox.ini", ".gitlab-ci.yml")


def ci_files(root: Path) -> Iterator[str]:
    """Repository-relative paths of the CI files of a project, sorted."""
    found: set[str] = set()
    workflows = root / ".github" / "workflows"
    if workflows.is_dir():
        found.update(
            p.relative_to(root).as_posix()
            for p in workflows.iterdir()
            if p.is_file() and p.suffix in (".yml", ".yaml")
        )
    ci_dir = root / ".ci"
    if ci_dir.is_dir():
        found.update(p.relative_to(root).as_posix() for p in ci_dir.rglob("*") if p.is_file())
    found.update(name for name in _ROOT_FILES if (root / name).is_file())
    yield from sorted(found)


def scan_ci_file(root: Path, rel: str) -> tuple[list[Blocker], list[Problem]]:
    """Blockers of one CI file: one per legacy token."""
    try:
        raw = (root / rel).read_bytes()
    except OSError as exc:
        problem = Problem(path=rel, line=None, kind="unreadable", message=str(exc), blocking=True)
        return [], [problem]
    if b"\x00" in raw:
        return [], []  # a binary helper, not a script
    text = raw.decode("utf-8", errors="replace")
    blockers: list[Blocker] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if line.lstrip().startswith("#"):
            continue
        for index, target in ci_tokens(line):
            blockers.append(
                Blocker(
                    path=rel,
                    line=number,
                    col=len(line[:index].encode("utf-8")),
                    kind="ci_reference",
                    target=target,
                    chain=(rel, target),
                    category="ci",
                    hint=config_hint("ci_reference", target, rel),
                )
            )
    return blockers, []
