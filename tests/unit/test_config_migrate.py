"""`config migrate`: [hamilton] rewritten into [engine]/[extract], comments and unknowns kept."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from harness.config import load_text
from harness.config.migrate import migrate_file, migrate_text

LEGACY = """\
# Project configuration: keep this header.
[engine]
backend = "legacy"  # until cutover

[hamilton]
# Parallel extraction, one task per core.
executor = "multiprocessing"
max_tasks = 4  # the CI runners have 4 cores

# Where Hamilton cached node results.
cache_path = ".hamilton_cache"
outputs = ["cpg_nodes",
           "cpg_edges"]
enable_shadow = true

[custom_tool]
# a section of another tool
keep = "me"
"""

PYPROJECT = """\
[project]
name = "demo"

[tool.codeanatomy.parity]
policy = "policy.toml"

[tool.codeanatomy.hamilton]
# one worker
max_tasks = 1
enable_shadow = true

[tool.other]
x = 1
"""

INLINE = 'hamilton = { max_tasks = 2, cache = false }\n\n[engine]\nbackend = "rust"\n'
ONLY_UNMAPPED = '[hamilton]\n# the old outputs\noutputs = ["cpg_nodes"]\n'
# Tables split by another table are "out of order" for tomlkit.
PYPROJECT_SPLIT = (
    '[tool.codeanatomy.engine]\nbackend = "legacy"\n\n[tool.other]\nx = 1\n\n'
    "[tool.codeanatomy.hamilton]\nmax_tasks = 2\n"
)
HAMILTON_SPLIT = "[hamilton]\nmax_tasks = 2\n\n[engine]\nshadow = false\n\n[hamilton.sub]\nq = 1\n"
CASES = [
    (LEGACY, False),
    (PYPROJECT, True),
    (INLINE, False),
    (ONLY_UNMAPPED, False),
    (PYPROJECT_SPLIT, True),
    (HAMILTON_SPLIT, False),
]


def _sections(text: str, pyproject: bool) -> dict[str, object]:
    data = tomllib.loads(text)
    return dict(data["tool"]["codeanatomy"] if pyproject else data)


def _effective(text: str, pyproject: bool = False) -> object:
    return load_text(text, file=None, root=Path("/nonexistent"), pyproject=pyproject, env={}).config


def test_comments_move_with_their_keys_and_unknown_sections_stay() -> None:
    out = migrate_text(LEGACY).text
    assert "\n[hamilton]\n" not in out
    assert out.startswith("# Project configuration: keep this header.\n[engine]\n")
    assert 'backend = "legacy"  # until cutover\nshadow = true\n' in out
    assert "workers = 4  # the CI runners have 4 cores\n" in out
    assert '# Where Hamilton cached node results.\ncache = ".hamilton_cache"\n' in out
    assert "# Parallel extraction, one task per core.\n" in out
    assert out.endswith('[custom_tool]\n# a section of another tool\nkeep = "me"\n')


def test_dropped_keys_survive_as_comments() -> None:
    out = migrate_text(LEGACY).text
    assert '# [hamilton].outputs = ["cpg_nodes", "cpg_edges"] (removed by migrate:' in out
    assert '# [hamilton].executor = "multiprocessing" (removed by migrate: superseded' in out


def test_new_sections_take_the_place_of_hamilton() -> None:
    out = migrate_text(LEGACY).text
    tables = [line for line in out.splitlines() if line.startswith("[")]
    assert tables == ["[engine]", "[extract]", "[custom_tool]"]


@pytest.mark.parametrize(("text", "pyproject"), CASES)
def test_migration_keeps_the_effective_configuration(text: str, pyproject: bool) -> None:
    result = migrate_text(text, pyproject=pyproject)
    assert result.changed
    tomllib.loads(result.text)  # still valid TOML
    assert "hamilton" not in _sections(result.text, pyproject)
    assert _effective(result.text, pyproject) == _effective(text, pyproject)


@pytest.mark.parametrize(("text", "pyproject"), CASES)
def test_migration_is_idempotent(text: str, pyproject: bool) -> None:
    once = migrate_text(text, pyproject=pyproject).text
    again = migrate_text(once, pyproject=pyproject)
    assert not again.changed
    assert again.text == once


def test_pyproject_sections_stay_under_tool_codeanatomy() -> None:
    data = tomllib.loads(migrate_text(PYPROJECT, pyproject=True).text)
    assert data["tool"]["codeanatomy"] == {
        "parity": {"policy": "policy.toml"},
        "engine": {"shadow": True},
        "extract": {"workers": 1},
    }
    assert data["tool"]["other"] == {"x": 1}
    assert data["project"] == {"name": "demo"}


def test_a_file_without_hamilton_is_left_byte_identical() -> None:
    text = "# hi\n[engine]\nbackend = 'rust'   # spaced\n"
    result = migrate_text(text)
    assert (result.changed, result.text) == (False, text)


def test_dry_run_returns_a_unified_diff_and_writes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "codeanatomy.toml"
    path.write_text(LEGACY, encoding="utf-8")
    outcome = migrate_file(path, dry_run=True)
    assert outcome.status == "dry_run"
    assert outcome.diff.startswith("--- a/codeanatomy.toml\n+++ b/codeanatomy.toml\n")
    assert "-[hamilton]\n" in outcome.diff
    assert path.read_text(encoding="utf-8") == LEGACY


def test_a_migration_that_would_be_invalid_writes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "codeanatomy.toml"
    text = '[engine]\nbackend = "rus"\n\n[hamilton]\nmax_tasks = 2\n'
    path.write_text(text, encoding="utf-8")
    outcome = migrate_file(path)
    assert outcome.status == "invalid"
    assert any("[engine].backend" in p for p in outcome.problems)
    assert path.read_text(encoding="utf-8") == text


def test_sections_stay_separated_by_blank_lines() -> None:
    out = migrate_text(PYPROJECT, pyproject=True).text
    assert "shadow = true\n\n[tool.codeanatomy.extract]\n" in out
    assert "workers = 1\n\n[tool.other]\n" in out
