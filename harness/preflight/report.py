"""The deletion preflight report: immutable values, computed once by :func:`scan` (DESIGN §8).

Positions follow the contract's convention (CONTRACT.md §3): ``line`` is 1-based and ``col``
is the 0-based UTF-8 byte column of the line (what :mod:`ast` reports); for text files
(TOML, CI) ``col`` is computed the same way on the matched line.
"""

from __future__ import annotations

from typing import Literal

import msgspec

SCHEMA_VERSION = "preflight/1"

BlockerKind = Literal[
    "import",
    "relative_import",
    "dynamic_import",
    "dunder_import",
    "transitive",
    "dependency",
    "entry_point",
    "config_section",
    "config_reference",
    "ci_reference",
]
Category = Literal["code", "test", "config", "dependency", "entry_point", "ci"]
ProblemKind = Literal[
    "unreadable",
    "decode_error",
    "parse_error",
    "toml_error",
    "not_regular_file",
    "symlink_escape",
    "symlink_loop",
    "too_large",
    "unresolved_relative_import",
    "unresolved_dynamic_import",
    "invalid_requirement",
]


class Blocker(msgspec.Struct, frozen=True, kw_only=True):
    """One reason the legacy stack cannot be deleted yet.

    ``target`` is the legacy module (or distribution) reached; ``chain`` is the shortest path
    from ``path`` to it: repository paths for project files, dotted names for modules outside
    the project (``harness/gateway.py -> harness/adapters/legacy.py -> hamilton``).
    """

    path: str
    line: int
    col: int
    kind: BlockerKind
    target: str
    chain: tuple[str, ...]
    category: Category
    hint: str
    key: str | None = None
    """For a configuration finding: the dotted TOML key of the table or list holding it."""


class Problem(msgspec.Struct, frozen=True, kw_only=True):
    """Something the scanner could not check. ``blocking`` problems fail the gate: a file that
    cannot be parsed may hide an import, so the gate fails closed rather than pass unseen code.
    """

    path: str
    line: int | None
    kind: ProblemKind
    message: str
    blocking: bool


class PreflightReport(msgspec.Struct, frozen=True, kw_only=True):
    """The verdict of the deletion gate: ``ok`` when no blocker and no blocking problem."""

    schema_version: str
    root: str
    allow: tuple[str, ...]
    deletion_set: tuple[str, ...]
    blockers: tuple[Blocker, ...]
    problems: tuple[Problem, ...]
    files_scanned: int
    notes: tuple[str, ...]
    ok: bool

    def blockers_by_category(self) -> dict[str, tuple[Blocker, ...]]:
        """Blockers grouped by category (every category present, possibly empty)."""
        categories: tuple[Category, ...] = (
            "code",
            "test",
            "config",
            "dependency",
            "entry_point",
            "ci",
        )
        return {c: tuple(b for b in self.blockers if b.category == c) for c in categories}


def blocker_sort_key(blocker: Blocker) -> tuple[str, int, int, str, str]:
    """The one deterministic order of blockers in a report."""
    return (blocker.path, blocker.line, blocker.col, blocker.kind, blocker.target)


def problem_sort_key(problem: Problem) -> tuple[str, int, str, str]:
    """The one deterministic order of problems in a report."""
    return (problem.path, problem.line or 0, problem.kind, problem.message)
