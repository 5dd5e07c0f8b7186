"""Preflight scan of planted projects: every import form is a blocker with its kind, file:line
and chain; look-alikes are not; unreadable code is a problem; output is deterministic."""

from __future__ import annotations

import textwrap
from pathlib import Path

import msgspec
import pytest

from harness.preflight import DEFAULT_ALLOW, PreflightReport, scan
from harness.preflight.layout import in_allow
from harness.preflight.stack import legacy_module


def _project(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return root


PLANTED = {
    "app/__init__.py": "",
    "app/static.py": """
        import hamilton
        import hamilton.driver as hd
        from hamilton import driver
        from hamilton.function_modifiers import tag
        import rustworkx as rx
        from backends.legacy import pipeline
        from harness.adapters import legacy
        def lazy():
            import rustworkx
        """,
    "app/dynamic.py": """
        import importlib
        import importlib as il
        from importlib import import_module as im
        LEGACY = "hamilton.driver"
        importlib.import_module("rustworkx")
        il.import_module(LEGACY)
        im(".legacy", package="backends")
        __import__("hamilton")
        __import__("backends", fromlist=["legacy"])
        """,
    "app/top.py": """
        '''Imports hamilton only through two other modules.'''
        import app.middle
        """,
    "app/middle.py": "from app import bottom\n",
    "app/bottom.py": "import rustworkx\n",
    "app/lookalikes.py": '''
        """import hamilton -- a docstring, not an import."""
        # import hamilton
        import hamiltonian
        from mylib.hamilton_utils import x
        from mylib import hamilton as mh
        hamilton = 1
        def rustworkx(): ...
        obj.hamilton.run()
        WORDS = ["hamilton", "rustworkx", "backends.legacy"]
        print(f"{WORDS} hamilton")
        def import_module(name):
            return name
        import_module("hamilton")
        getattr(obj, "rustworkx")
        ''',
    "backends/__init__.py": "",
    "backends/legacy/__init__.py": "",
    "backends/legacy/pipeline.py": "import hamilton\nfrom hamilton import driver\n",
    "backends/rust/__init__.py": "",
    "backends/rust/facade.py": "from ..legacy import pipeline\n",
    "tests/test_uses_legacy.py": "import pytest\nrx = pytest.importorskip('rustworkx')\n",
}

S, D = "app/static.py", "app/dynamic.py"
PIPELINE = "backends/legacy/pipeline.py"
LEGACY_INIT = "backends/legacy/__init__.py"

# (path, line, kind, target, chain, category), written by hand from PLANTED.
EXPECTED = [
    (S, 1, "import", "hamilton", (S, "hamilton"), "code"),
    (S, 2, "import", "hamilton.driver", (S, "hamilton.driver"), "code"),
    (S, 3, "import", "hamilton", (S, "hamilton"), "code"),
    (S, 4, "import", "hamilton.function_modifiers", (S, "hamilton.function_modifiers"), "code"),
    (S, 5, "import", "rustworkx", (S, "rustworkx"), "code"),
    (S, 6, "import", "backends.legacy.pipeline", (S, PIPELINE, "hamilton"), "code"),
    (S, 7, "import", "harness.adapters.legacy", (S, "harness.adapters.legacy"), "code"),
    (S, 9, "import", "rustworkx", (S, "rustworkx"), "code"),
    (D, 5, "dynamic_import", "rustworkx", (D, "rustworkx"), "code"),
    (D, 6, "dynamic_import", "hamilton.driver", (D, "hamilton.driver"), "code"),
    (D, 7, "dynamic_import", "backends.legacy", (D, LEGACY_INIT), "code"),
    (D, 8, "dunder_import", "hamilton", (D, "hamilton"), "code"),
    (D, 9, "dunder_import", "backends.legacy", (D, LEGACY_INIT), "code"),
    (
        "backends/rust/facade.py",
        1,
        "relative_import",
        "backends.legacy.pipeline",
        ("backends/rust/facade.py", PIPELINE, "hamilton"),
        "code",
    ),
    (
        "app/top.py",
        2,
        "transitive",
        "rustworkx",
        ("app/top.py", "app/middle.py", "app/bottom.py", "rustworkx"),
        "code",
    ),
    (
        "app/middle.py",
        1,
        "transitive",
        "rustworkx",
        ("app/middle.py", "app/bottom.py", "rustworkx"),
        "code",
    ),
    ("app/bottom.py", 1, "import", "rustworkx", ("app/bottom.py", "rustworkx"), "code"),
    (
        "tests/test_uses_legacy.py",
        2,
        "dynamic_import",
        "rustworkx",
        ("tests/test_uses_legacy.py", "rustworkx"),
        "test",
    ),
]


@pytest.fixture(scope="module")
def planted(tmp_path_factory: pytest.TempPathFactory) -> PreflightReport:
    return scan(_project(tmp_path_factory.mktemp("planted"), PLANTED))


def _rows(report: PreflightReport) -> list[tuple[object, ...]]:
    return [(b.path, b.line, b.kind, b.target, b.chain, b.category) for b in report.blockers]


@pytest.mark.parametrize("expected", EXPECTED, ids=lambda e: f"{e[0]}:{e[1]}:{e[2]}")
def test_planted_violation_is_reported_with_kind_line_and_chain(
    planted: PreflightReport, expected: tuple[object, ...]
) -> None:
    assert expected in _rows(planted)


def test_nothing_but_the_planted_violations_is_reported(planted: PreflightReport) -> None:
    assert sorted(_rows(planted), key=repr) == sorted(EXPECTED, key=repr)


def test_look_alikes_are_not_blockers(planted: PreflightReport) -> None:
    assert [b for b in planted.blockers if b.path == "app/lookalikes.py"] == []


def test_import_column_is_the_statement_column(planted: PreflightReport) -> None:
    lazy = [b for b in planted.blockers if b.path == S and b.line == 9]
    assert [b.col for b in lazy] == [4]


def test_imports_inside_the_deletion_set_are_not_blockers_but_listed(
    planted: PreflightReport,
) -> None:
    assert not [b for b in planted.blockers if b.path.startswith("backends/legacy/")]
    assert planted.deletion_set == (LEGACY_INIT, PIPELINE)


def test_every_blocker_has_a_concrete_hint(planted: PreflightReport) -> None:
    static_backend = next(b for b in planted.blockers if b.path == S and b.line == 6)
    assert "harness.gateway.build_graph_product" in static_backend.hint
    assert all(b.hint for b in planted.blockers)


def test_planted_project_fails_the_gate(planted: PreflightReport) -> None:
    assert planted.ok is False


def test_clean_project_passes_with_an_empty_deletion_set(tmp_path: Path) -> None:
    report = scan(_project(tmp_path, {"app/__init__.py": "import json\n"}))
    assert (report.ok, report.blockers, report.deletion_set) == (True, (), ())


def test_unparsable_file_is_a_blocking_problem_not_a_crash(tmp_path: Path) -> None:
    root = _project(
        tmp_path, {"app/broken.py": "x = 1\ndef (:\n", "app/bad.py": "import hamilton\n"}
    )
    report = scan(root)
    assert [(p.path, p.line, p.kind, p.blocking) for p in report.problems] == [
        ("app/broken.py", 2, "parse_error", True)
    ]
    assert [(b.path, b.target) for b in report.blockers] == [("app/bad.py", "hamilton")]
    assert report.ok is False


def test_unparsable_file_alone_still_fails_the_gate(tmp_path: Path) -> None:
    assert scan(_project(tmp_path, {"app/broken.py": "def (:\n"})).ok is False


def test_unresolved_dynamic_import_is_a_warning_that_does_not_fail_the_gate(
    tmp_path: Path,
) -> None:
    root = _project(tmp_path, {"app/plugins.py": "import importlib\nimportlib.import_module(n)\n"})
    report = scan(root)
    assert [(p.line, p.kind, p.blocking) for p in report.problems] == [
        (2, "unresolved_dynamic_import", False)
    ]
    assert report.ok is True


@pytest.mark.parametrize(
    "skipped",
    [
        "golden_repos/demo/uses.py",
        ".venv/lib/site.py",
        "venv/lib/site.py",
        "node_modules/pkg/x.py",
        "target/debug/gen.py",
        ".hidden/x.py",
        "app/__pycache__/x.py",
    ],
)
def test_fixtures_environments_and_hidden_folders_are_not_scanned(
    tmp_path: Path, skipped: str
) -> None:
    report = scan(_project(tmp_path, {skipped: "import hamilton\n"}))
    assert report.blockers == ()
    assert report.files_scanned == 0


def test_same_project_gives_the_same_report_twice(tmp_path: Path) -> None:
    root = _project(tmp_path, PLANTED)
    assert msgspec.json.encode(scan(root)) == msgspec.json.encode(scan(root))


def test_report_does_not_depend_on_file_creation_order(tmp_path: Path) -> None:
    forward = _project(tmp_path / "p", PLANTED)
    backward = _project(tmp_path / "q", dict(reversed(list(PLANTED.items()))))

    def body(report: PreflightReport) -> bytes:
        return msgspec.json.encode(msgspec.structs.replace(report, root=""))

    assert body(scan(forward)) == body(scan(backward))


def test_report_round_trips_through_json(planted: PreflightReport) -> None:
    data = msgspec.json.encode(planted)
    assert msgspec.json.decode(data, type=PreflightReport) == planted


def test_this_repository_has_no_blockers_and_deletes_only_allow_listed_files() -> None:
    """Pins the project's own result: nothing outside the scheduled deletion set (the legacy
    backend, its adapter, its tests and the `legacy` extra) reaches hamilton, rustworkx or the
    legacy backend, so a new hidden coupling fails CI."""
    report = scan(Path(__file__).parents[2])
    categories = ("code", "test", "config", "dependency", "entry_point", "ci")
    assert report.blockers_by_category() == dict.fromkeys(categories, ())
    assert all(
        in_allow(path, DEFAULT_ALLOW) or path in DEFAULT_ALLOW for path in report.deletion_set
    )
    assert "harness/adapters/legacy.py" in report.deletion_set
    assert "pyproject.toml#project.optional-dependencies.legacy" in report.deletion_set
    assert any(p.startswith("backends/legacy/") for p in report.deletion_set)
    assert not [p for p in report.problems if p.blocking]


def test_this_repository_keeps_the_legacy_boundary() -> None:
    """DESIGN §2, true in every phase: only the deletion set imports hamilton or rustworkx,
    and project code reaches backends.legacy only through the legacy adapter (itself in the
    deletion set). Tests of the legacy backend may import it; they block deletion, not the
    boundary."""
    report = scan(Path(__file__).parents[2])
    direct = ("import", "relative_import", "dynamic_import", "dunder_import")
    crossings = [
        (b.path, b.line, b.target)
        for b in report.blockers
        if b.kind in direct
        and (
            legacy_module(b.target) in ("hamilton", "rustworkx")
            or (b.category == "code" and legacy_module(b.target) == "backends.legacy")
        )
    ]
    assert crossings == []


def test_a_link_out_of_the_project_is_never_read(tmp_path: Path) -> None:
    # passwd.py -> /etc/passwd: extraction refuses such links; preflight must not read them
    # either. Outside the project lies a file that would be a blocker if it were read.
    outside = tmp_path / "outside.py"
    outside.write_text("import hamilton\n")
    root = _project(tmp_path / "proj", {"app.py": "x = 1\n"})
    (root / "leak.py").symlink_to(outside)
    (root / "loop.py").symlink_to(root / "loop.py")
    report = scan(root)
    assert not report.blockers
    kinds = {p.path: (p.kind, p.blocking) for p in report.problems}
    assert kinds == {"leak.py": ("symlink_escape", False), "loop.py": ("symlink_loop", False)}
    assert report.ok


def test_a_link_inside_the_project_is_read(tmp_path: Path) -> None:
    root = _project(tmp_path / "proj", {"real.py": "import hamilton\n"})
    (root / "alias.py").symlink_to(root / "real.py")
    paths = {b.path for b in scan(root).blockers}
    assert paths == {"real.py", "alias.py"}
