"""python_external: stdlib / third-party / unresolved without importing anything."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from backends.extract.external import classify, declared_dependencies, external_rows

INSTALLED = {"yaml": ("PyYAML", "6.0"), "pyarrow": ("pyarrow", "26.0.1")}


@pytest.mark.parametrize(
    ("module", "expected"),
    [
        ("os.path", ("stdlib", None, None)),
        ("asyncio", ("stdlib", None, None)),
        ("yaml.loader", ("third_party", "PyYAML", "6.0")),
        ("declared_pkg.sub", ("third_party", "declared_pkg", None)),
        ("nonexistent_vendor_lib", ("unresolved", None, None)),
    ],
)
def test_classify(module: str, expected: tuple[str, str | None, str | None]) -> None:
    assert classify(module, INSTALLED, {"declared_pkg"}) == expected


def test_declared_dependencies_read_pyproject_and_requirements(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname="x"\ndependencies=["Some-Lib>=1", "other_lib"]\n'
        '[project.optional-dependencies]\nextra=["Extra.Pkg"]\n'
    )
    (tmp_path / "requirements-dev.txt").write_text("# comment\n-r base.txt\nDev_Tool==2\n")
    assert declared_dependencies(tmp_path) == {"some_lib", "other_lib", "extra_pkg", "dev_tool"}


def test_broken_pyproject_is_ignored(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[project\n")
    assert declared_dependencies(tmp_path) == set()


def test_external_rows_only_for_external_targets(tmp_path: Path) -> None:
    span = {"bstart": 0, "bend": 2, "line": 1, "col": 0, "end_line": 1, "end_col": 2}
    imports = [
        {
            "path": "a.py",
            "ordinal": 0,
            "target_kind": "external",
            "absolute_module": "json",
            **span,
        },
        {"path": "a.py", "ordinal": 1, "target_kind": "module", "absolute_module": "pkg", **span},
        {
            "path": "a.py",
            "ordinal": 2,
            "target_kind": "external",
            "absolute_module": "zzz_nope",
            **span,
        },
    ]
    rows, warnings = external_rows(imports, tmp_path)
    assert [(r["ordinal"], r["module"], r["classification"]) for r in rows] == [
        (0, "json", "stdlib"),
        (1, "zzz_nope", "unresolved"),
    ]
    assert "json" in sys.stdlib_module_names
    assert [(p, w.code) for p, w in warnings] == [("a.py", "IMPORT_UNRESOLVED")]
