"""The pytest plugin as a user meets it (issue 15, part 3): a test file of another project,
run by pytest in a child process, shadow-runs both backends with the ``parity`` fixture on a
small repository of that project, and ``--parity-report`` writes the four reports."""

from __future__ import annotations

import json
import tomllib
from importlib.metadata import entry_points
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
PLUGIN = "harness.pytest_plugin"

SHOP = {
    "shop/__init__.py": '"""A small shop."""\nfrom shop.cart import Cart\n\n__all__ = ["Cart"]\n',
    "shop/items.py": (
        "from dataclasses import dataclass\n\n\n"
        "@dataclass(frozen=True)\n"
        "class Item:\n"
        "    name: str\n"
        "    price_cents: int\n\n"
        "    def discounted(self, percent: int) -> 'Item':\n"
        "        return Item(self.name, self.price_cents * (100 - percent) // 100)\n"
    ),
    "shop/cart.py": (
        "from shop.items import Item\n\n\n"
        "class Cart:\n"
        "    def __init__(self) -> None:\n"
        "        self.items: list[Item] = []\n\n"
        "    def add(self, item: Item) -> None:\n"
        "        self.items.append(item)\n\n"
        "    def total(self) -> int:\n"
        "        return sum(i.price_cents for i in self.items)\n"
    ),
    "docs/index.md": "# The shop\n\nNo Python here.\n",
}

# What a user writes in their own tests/ (the README shows the same).
USER_TESTS = """
import pytest


def test_the_engines_agree_on_the_shop(parity):
    result = parity.check("shop")
    assert result.coverage.tables_compared > 0
    assert not result.blocks


@pytest.mark.parity(timeout_s=900)
def test_a_folder_without_python_is_not_a_pass(parity):
    result = parity.run("docs")
    assert not result.blocks


# Two fake engines of codeanatomy's own tests: the candidate has one node more.
@pytest.mark.parity(
    primary="tests.unit.shadow_fakes:ECHO", candidate="tests.unit.shadow_fakes:DRIFTING"
)
def test_a_candidate_that_differs_fails(parity):
    parity.check("shop")
"""


def _plugin_args() -> list[str]:
    """Once the package is installed (``uv sync``) the ``pytest11`` entry point loads the
    plugin; before, ``-p`` does (both at once would register it twice)."""
    installed = any(ep.value == PLUGIN for ep in entry_points(group="pytest11"))
    return [] if installed else ["-p", PLUGIN]


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    for name, text in SHOP.items():
        path = pytester.path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    pytester.makepyfile(test_parity=USER_TESTS)
    return pytester


def test_the_entry_point_names_the_plugin() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert project["project"]["entry-points"]["pytest11"] == {"codeanatomy": PLUGIN}


def test_a_user_test_passes_on_agreeing_engines_and_fails_on_a_folder_without_python(
    project: pytest.Pytester, tmp_path: Path
) -> None:
    reports = tmp_path / "parity-report"
    result = project.runpytest_subprocess(
        *_plugin_args(), "-p", "no:cacheprovider", "-k", "not differs", "--parity-report", reports
    )
    result.assert_outcomes(passed=1, failed=1, deselected=1)
    result.stdout.fnmatch_lines(
        [
            "*test_a_folder_without_python_is_not_a_pass*",
            "*parity: REPO_HAS_NO_PYTHON: repository *docs holds no .py or .pyi file*",
        ]
    )
    result.stdout.fnmatch_lines(["*parity pass over 1 run(s); reports in *parity-report"])
    written = {p.name for p in reports.iterdir()}
    assert {"parity.json", "parity.schema.json", "parity.md", "junit.xml", "parity.html"} <= written
    report = json.loads((reports / "parity.json").read_text(encoding="utf-8"))
    assert report["verdict"] == "pass"
    assert [r["name"] for r in report["repos"]] == ["shop"]


def test_a_user_test_fails_when_the_candidate_differs(
    project: pytest.Pytester, tmp_path: Path
) -> None:
    reports = tmp_path / "parity-report"
    result = project.runpytest_subprocess(
        *_plugin_args(), "-p", "no:cacheprovider", "-k", "differs", "--parity-report", reports
    )
    result.assert_outcomes(failed=1, deselected=2)
    result.stdout.fnmatch_lines(
        [
            "parity of shop blocks (sev*; first divergent stage outputs): * blocking finding(s)",
            "  sev* TABLE_DIFFERS outputs/cpg_nodes: *",
            "coverage: * tables compared, rows * primary / * candidate; *",
        ]
    )
    result.stdout.fnmatch_lines(["*parity fail over 1 run(s); reports in *"])
    report = json.loads((reports / "parity.json").read_text(encoding="utf-8"))
    assert report["verdict"] == "fail"


def test_every_test_using_the_fixture_carries_the_marker(project: pytest.Pytester) -> None:
    result = project.runpytest_subprocess(
        *_plugin_args(), "-p", "no:cacheprovider", "-m", "not parity"
    )
    result.assert_outcomes(deselected=3)
