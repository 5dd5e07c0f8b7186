"""Preflight of configuration and CI: dependency declarations, entry points, ``[hamilton]``
sections, config strings naming legacy modules, CI steps; prose mentions are not blockers."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from harness.preflight import PreflightReport, scan

PYPROJECT = """
[build-system]
requires = ["maturin==1.16.0"]

[project]
name = "demo"
description = "Moves from a Hamilton pipeline with rustworkx scheduling to a Rust engine."
dependencies = [
  "pyarrow==26.0.1",
  "apache-hamilton==1.90.0",
]

[project.optional-dependencies]
scheduling = ["rustworkx>=0.18"]

[dependency-groups]
dev = ["pytest==9.2.0", "sf-hamilton[visualization]==1.90.0"]

[project.scripts]
demo = "harness.cli:main"
legacy-run = "backends.legacy.cli:main"

[project.entry-points."demo.backends"]
legacy = "harness.adapters.legacy:LegacyAdapter"

[tool.ruff]
extend-exclude = ["backends/legacy"]

[[tool.mypy.overrides]]
module = ["hamilton.*", "deltalake.*"]
ignore_missing_imports = true

[tool.codeanatomy.engine]
backend = "rust"

[tool.codeanatomy.hamilton]
tags = { team = "cpg" }
"""

CODEANATOMY_TOML = """
[engine]
backend = "rust"
comment = "the hamilton section below is deprecated"

[hamilton]
driver = "hamilton.driver"
tags = ["a"]

[extract]
plugins = ["rustworkx"]
"""

WORKFLOW = """
name: Hamilton parity
on: [push]
jobs:
  parity:
    runs-on: ubuntu-latest
    steps:
      # hamilton is still the primary backend
      - run: pip install apache-hamilton==1.90.0
      - run: python -m hamilton.cli build golden_repos/
      - run: echo hamiltonian apache/hamilton mylib.hamilton_utils
"""

CI_RUN = """#!/usr/bin/env bash
set -euo pipefail
uv run python backends/legacy/run.py
"""


def _write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def configured(tmp_path_factory: pytest.TempPathFactory) -> PreflightReport:
    root = _write(
        tmp_path_factory.mktemp("cfg"),
        {
            "pyproject.toml": PYPROJECT,
            "codeanatomy.toml": CODEANATOMY_TOML,
            ".github/workflows/parity.yml": WORKFLOW,
            ".ci/run": CI_RUN,
            "requirements-legacy.txt": "# pinned\nrustworkx==0.18.1  # scheduling\npyarrow\n",
        },
    )
    return scan(root)


# (path, line, col, kind, target, category), written by hand from the texts above.
EXPECTED = [
    ("pyproject.toml", 9, 2, "dependency", "apache-hamilton", "dependency"),
    ("pyproject.toml", 13, 14, "dependency", "rustworkx", "dependency"),
    ("pyproject.toml", 16, 24, "dependency", "sf-hamilton", "dependency"),
    ("pyproject.toml", 20, 13, "entry_point", "backends.legacy.cli", "entry_point"),
    ("pyproject.toml", 23, 9, "entry_point", "harness.adapters.legacy", "entry_point"),
    ("pyproject.toml", 26, 18, "config_reference", "backends.legacy", "config"),
    ("pyproject.toml", 29, 10, "config_reference", "hamilton", "config"),
    ("pyproject.toml", 35, 0, "config_section", "tool.codeanatomy.hamilton", "config"),
    ("codeanatomy.toml", 5, 0, "config_section", "hamilton", "config"),
    ("codeanatomy.toml", 10, 11, "config_reference", "rustworkx", "config"),
    (".github/workflows/parity.yml", 8, 25, "ci_reference", "apache-hamilton", "ci"),
    (".github/workflows/parity.yml", 9, 23, "ci_reference", "hamilton.cli", "ci"),
    (".ci/run", 3, 14, "ci_reference", "backends.legacy.run", "ci"),
    ("requirements-legacy.txt", 2, 0, "dependency", "rustworkx", "dependency"),
]


def _rows(report: PreflightReport) -> list[tuple[object, ...]]:
    return [(b.path, b.line, b.col, b.kind, b.target, b.category) for b in report.blockers]


@pytest.mark.parametrize("expected", EXPECTED, ids=lambda e: f"{e[0]}:{e[1]}:{e[3]}")
def test_config_blocker_is_reported_with_kind_and_position(
    configured: PreflightReport, expected: tuple[object, ...]
) -> None:
    assert expected in _rows(configured)


def test_prose_comments_and_look_alikes_in_config_and_ci_are_not_blockers(
    configured: PreflightReport,
) -> None:
    assert sorted(_rows(configured), key=repr) == sorted(EXPECTED, key=repr)


def test_config_blocker_chain_names_file_and_target(configured: PreflightReport) -> None:
    section = next(b for b in configured.blockers if b.kind == "config_section")
    assert section.chain == ("codeanatomy.toml", "hamilton")
    assert "codeanatomy config migrate" in section.hint


def test_ci_matching_is_declared_textual_in_the_report(configured: PreflightReport) -> None:
    assert any("CI files are not Python" in note for note in configured.notes)


def test_invalid_toml_is_a_blocking_problem(tmp_path: Path) -> None:
    report = scan(_write(tmp_path, {"pyproject.toml": "[project\nname = 1\n"}))
    assert [(p.path, p.kind, p.blocking) for p in report.problems] == [
        ("pyproject.toml", "toml_error", True)
    ]
    assert report.ok is False


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("[hamilton]\nx = 1\n[engine]\n", 1),
        ("title = 'demo'\nhamilton = { x = 1 }\n[engine]\n", 2),
        ("title = 'demo'\nhamilton.x = 1\n", 2),
    ],
)
def test_hamilton_section_is_found_in_every_toml_spelling(
    tmp_path: Path, text: str, line: int
) -> None:
    report = scan(_write(tmp_path, {"codeanatomy.toml": text}))
    assert [(b.kind, b.line) for b in report.blockers] == [("config_section", line)]


def test_hamilton_key_inside_another_table_is_not_a_section(tmp_path: Path) -> None:
    text = "[engine]\nhamilton = false\n"
    assert scan(_write(tmp_path, {"codeanatomy.toml": text})).blockers == ()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('[build-system]\nrequires = ["rustworkx"]\n', (2, "dependency", "rustworkx")),
        (
            '[tool.uv]\ndev-dependencies = ["Apache_Hamilton==1.90"]\n',
            (2, "dependency", "apache-hamilton"),
        ),
        (
            '[tool.poetry.dependencies]\npython = "^3.11"\nrustworkx = "^0.18"\n',
            (3, "dependency", "rustworkx"),
        ),
        (
            '[tool.poetry.group.legacy.dependencies]\nsf-hamilton = "*"\n',
            (2, "dependency", "sf-hamilton"),
        ),
        ('[project.gui-scripts]\nviz = "hamilton.ui:run"\n', (2, "entry_point", "hamilton.ui")),
        ("[hamilton]\ntags = []\n", (1, "config_section", "hamilton")),
        ('[tool.importlinter]\nroot = "rustworkx"\n', (2, "config_reference", "rustworkx")),
    ],
)
def test_pyproject_legacy_declaration_is_found_wherever_it_lives(
    tmp_path: Path, text: str, expected: tuple[object, ...]
) -> None:
    report = scan(_write(tmp_path, {"pyproject.toml": text}))
    assert [(b.line, b.kind, b.target) for b in report.blockers] == [expected]


@pytest.mark.parametrize(
    "text",
    [
        '[project]\ndependencies = ["hamilton-utils==1.0", "rustworkx-extra"]\n',
        '[project]\ndescription = "rustworkx"\n',
        '[tool.codeanatomy.engine]\nnote = "hamilton is gone"\n',
    ],
)
def test_pyproject_look_alikes_are_not_blockers(tmp_path: Path, text: str) -> None:
    assert scan(_write(tmp_path, {"pyproject.toml": text})).blockers == ()


def test_the_allow_listed_legacy_extra_is_scheduled_for_deletion_not_blocking(
    tmp_path: Path,
) -> None:
    """``pyproject.toml#project.optional-dependencies.legacy`` is in the default allow-list:
    the extra is deleted with the code; the same requirement in another extra still blocks."""
    pyproject = """
    [project]
    name = "demo"
    dependencies = ["pyarrow==26.0.1"]

    [project.optional-dependencies]
    legacy = ["apache-hamilton==1.90.0", "rustworkx==0.18.1"]
    viz = ["rustworkx==0.18.1"]
    """
    report = scan(_write(tmp_path, {"pyproject.toml": pyproject}))
    assert [(b.key, b.target) for b in report.blockers] == [
        ("project.optional-dependencies.viz", "rustworkx")
    ]
    assert "pyproject.toml#project.optional-dependencies.legacy" in report.deletion_set


def test_a_requirements_line_is_read_as_pip_reads_it(tmp_path: Path) -> None:
    text = (
        "-r base.txt\npyarrow==26.0.1 \\\n  --hash=sha256:abc\n  RustWorkX \\\n  >=0.18  # sched\n"
    )
    report = scan(_write(tmp_path, {"requirements.txt": text}))
    assert [(b.line, b.col, b.target) for b in report.blockers] == [(4, 2, "rustworkx")]
    assert report.problems == ()


def test_a_line_that_is_not_a_requirement_is_a_problem_that_does_not_block(
    tmp_path: Path,
) -> None:
    files = {
        "requirements.txt": "pyarrow\ngit+https://example.org/apache/hamilton.git\n",
        "pyproject.toml": '[project]\nname = "x"\ndependencies = [\n  "ok",\n  "not a req",\n]\n',
    }
    report = scan(_write(tmp_path, files))
    assert [(p.path, p.line, p.kind, p.blocking) for p in report.problems] == [
        ("pyproject.toml", 5, "invalid_requirement", False),
        ("requirements.txt", 2, "invalid_requirement", False),
    ]
    assert "not a PEP 508 requirement" in report.problems[1].message
    assert report.ok is True
