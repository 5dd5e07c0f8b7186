"""Preflight import graph: transitive blockers with their shortest chain, and the allow-list
(deletion set) that is the legacy code itself."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from harness.preflight import AllowListError, PreflightReport, scan


def _project(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return root


def _by_path(report: PreflightReport) -> dict[str, tuple[object, ...]]:
    return {b.path: (b.line, b.kind, b.target, b.chain) for b in report.blockers}


GATEWAY_PROJECT = {
    "backends/__init__.py": "",
    "backends/legacy/__init__.py": "",
    "backends/legacy/pipeline.py": "import hamilton\nimport rustworkx\n",
    "backends/legacy/README.md": "the legacy backend\n",
    "harness/__init__.py": "",
    "harness/adapters/__init__.py": "",
    "harness/adapters/legacy.py": "from backends.legacy import pipeline\n",
    "harness/gateway.py": """
        from __future__ import annotations

        def build_graph_product():
            from harness.adapters import legacy
            return legacy
        """,
    "harness/cli.py": "from harness.gateway import build_graph_product\n",
    "harness/report.py": "import json\n",
}


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> PreflightReport:
    return scan(_project(tmp_path_factory.mktemp("gw"), GATEWAY_PROJECT))


def test_module_importing_the_legacy_adapter_is_a_blocker_with_the_full_chain(
    gateway: PreflightReport,
) -> None:
    assert _by_path(gateway)["harness/gateway.py"] == (
        4,
        "import",
        "harness.adapters.legacy",
        (
            "harness/gateway.py",
            "harness/adapters/legacy.py",
            "backends/legacy/pipeline.py",
            "hamilton",
        ),
    )


def test_importer_of_a_blocked_module_is_a_transitive_blocker(gateway: PreflightReport) -> None:
    assert _by_path(gateway)["harness/cli.py"] == (
        1,
        "transitive",
        "harness.adapters.legacy",
        (
            "harness/cli.py",
            "harness/gateway.py",
            "harness/adapters/legacy.py",
            "backends/legacy/pipeline.py",
            "hamilton",
        ),
    )


def test_only_modules_that_reach_the_legacy_stack_are_blocked(gateway: PreflightReport) -> None:
    assert sorted(_by_path(gateway)) == ["harness/cli.py", "harness/gateway.py"]


def test_deletion_set_lists_every_allow_listed_file(gateway: PreflightReport) -> None:
    assert gateway.deletion_set == (
        "backends/legacy/README.md",
        "backends/legacy/__init__.py",
        "backends/legacy/pipeline.py",
        "harness/adapters/legacy.py",
    )


def test_shortest_chain_wins_over_the_first_import(tmp_path: Path) -> None:
    root = _project(
        tmp_path,
        {
            "app/__init__.py": "",
            "app/entry.py": "import app.long1\nimport app.short\n",
            "app/long1.py": "import app.long2\n",
            "app/long2.py": "import app.long3\n",
            "app/long3.py": "import hamilton\n",
            "app/short.py": "import hamilton\n",
        },
    )
    line, kind, _, chain = _by_path(scan(root))["app/entry.py"]
    assert (line, kind, chain) == (2, "transitive", ("app/entry.py", "app/short.py", "hamilton"))


def test_import_cycle_terminates_and_blocks_both_members(tmp_path: Path) -> None:
    root = _project(
        tmp_path,
        {
            "app/__init__.py": "",
            "app/a.py": "from app import b\n",
            "app/b.py": "from app import a\nimport rustworkx\n",
        },
    )
    found = _by_path(scan(root))
    assert found["app/a.py"][3] == ("app/a.py", "app/b.py", "rustworkx")
    assert found["app/b.py"][1] == "import"


def test_package_init_executed_by_an_import_is_part_of_the_chain(tmp_path: Path) -> None:
    root = _project(
        tmp_path,
        {
            "lib/__init__.py": "import rustworkx\n",
            "lib/util.py": "",
            "app.py": "import lib.util\n",
        },
    )
    assert _by_path(scan(root))["app.py"][3] == ("app.py", "lib/__init__.py", "rustworkx")


def test_src_layout_modules_resolve_to_their_files(tmp_path: Path) -> None:
    root = _project(
        tmp_path,
        {
            "pyproject.toml": "[project]\nname = 'x'\n",
            "src/pkg/__init__.py": "",
            "src/pkg/a.py": "from pkg import b\n",
            "src/pkg/b.py": "from . import c\n",
            "src/pkg/c.py": "import rustworkx\n",
        },
    )
    assert _by_path(scan(root))["src/pkg/a.py"] == (
        1,
        "transitive",
        "rustworkx",
        ("src/pkg/a.py", "src/pkg/b.py", "src/pkg/c.py", "rustworkx"),
    )


def test_test_code_reaching_the_legacy_stack_is_categorised_as_test(tmp_path: Path) -> None:
    root = _project(
        tmp_path,
        {
            "backends/__init__.py": "",
            "backends/legacy/__init__.py": "import hamilton\n",
            "tests/__init__.py": "",
            "tests/unit/__init__.py": "",
            "tests/unit/test_legacy.py": "from backends.legacy import run\n",
        },
    )
    [blocker] = scan(root).blockers
    assert (blocker.path, blocker.category, blocker.chain) == (
        "tests/unit/test_legacy.py",
        "test",
        ("tests/unit/test_legacy.py", "backends/legacy/__init__.py", "hamilton"),
    )


def test_custom_allow_list_replaces_the_default(tmp_path: Path) -> None:
    root = _project(
        tmp_path,
        {
            "old/__init__.py": "",
            "old/engine.py": "import hamilton\n",
            "app.py": "import old.engine\n",
            "backends/legacy/x.py": "import rustworkx\n",
        },
    )
    report = scan(root, allow=["old/"])
    assert report.deletion_set == ("old/__init__.py", "old/engine.py")
    assert _by_path(report) == {
        "app.py": (1, "import", "old.engine", ("app.py", "old/engine.py", "hamilton")),
        "backends/legacy/x.py": (1, "import", "rustworkx", ("backends/legacy/x.py", "rustworkx")),
    }


def test_allow_listed_test_folder_is_deleted_with_the_legacy_code(tmp_path: Path) -> None:
    root = _project(
        tmp_path,
        {
            "backends/legacy/run.py": "import hamilton\n",
            "tests/legacy/test_run.py": "import hamilton\nfrom backends.legacy import run\n",
        },
    )
    report = scan(root, allow=["backends/legacy/", "tests/legacy/"])
    assert (report.ok, report.deletion_set) == (
        True,
        ("backends/legacy/run.py", "tests/legacy/test_run.py"),
    )


@pytest.mark.parametrize("entry", ["/etc", "../outside", "a/../../b", "."])
def test_allow_entry_outside_the_project_is_refused(tmp_path: Path, entry: str) -> None:
    with pytest.raises(AllowListError):
        scan(tmp_path, allow=[entry])


def test_allow_entry_that_matches_nothing_is_noted(tmp_path: Path) -> None:
    report = scan(tmp_path, allow=["backends/legacy/"])
    assert report.deletion_set == ()
    assert any("backends/legacy/ matches no file" in note for note in report.notes)
