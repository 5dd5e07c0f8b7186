"""python_external: stdlib / third-party / unresolved without importing anything."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from backends.extract import external
from backends.extract.cache import ResultCache
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


def _external(module: str) -> dict[str, object]:
    span = {"bstart": 0, "bend": 2, "line": 1, "col": 0, "end_line": 1, "end_col": 2}
    return {
        "path": "a.py",
        "ordinal": 0,
        "target_kind": "external",
        "absolute_module": module,
        **span,
    }


def test_installed_distributions_are_not_read_when_every_import_is_stdlib(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def unread(cache: object) -> dict[str, tuple[str, str]]:
        raise AssertionError("installed metadata read for stdlib imports only")

    monkeypatch.setattr(external, "installed_top_levels_cached", unread)
    rows, _ = external_rows([_external("json"), _external("os.path")], tmp_path)
    assert [r["classification"] for r in rows] == ["stdlib", "stdlib"]


def test_installed_distributions_are_read_for_a_third_party_import(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The vacuous case of the test above: a non-stdlib import does consult them.
    monkeypatch.setattr(external, "installed_top_levels_cached", lambda cache: INSTALLED)
    rows, _ = external_rows([_external("yaml.loader")], tmp_path)
    assert [(r["classification"], r["distribution"]) for r in rows] == [("third_party", "PyYAML")]


def test_installed_distributions_are_served_from_the_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = ResultCache(tmp_path / "cache")
    first = external.installed_top_levels_cached(cache)
    assert first == external.installed_top_levels()

    def unread() -> dict[str, tuple[str, str]]:
        raise AssertionError("metadata read again in the same environment")

    monkeypatch.setattr(external, "installed_top_levels", unread)
    assert external.installed_top_levels_cached(cache) == first


def test_installed_distributions_are_read_without_a_cache(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(external, "installed_top_levels", lambda: INSTALLED)
    assert external.installed_top_levels_cached(None) == INSTALLED
    assert external.installed_top_levels_cached(ResultCache(None)) == INSTALLED


def test_a_torn_cache_entry_is_a_miss(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cache = ResultCache(tmp_path / "cache")
    cache.put_bytes(external._ENVIRONMENT, external.environment_key(), b"\xc1 not msgpack")
    monkeypatch.setattr(external, "installed_top_levels", lambda: INSTALLED)
    assert external.installed_top_levels_cached(cache) == INSTALLED


def test_the_environment_key_moves_when_a_distribution_is_installed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = tmp_path / "site-packages"
    site.mkdir()
    monkeypatch.setattr(sys, "path", [str(site)])
    before = external.environment_key()
    assert external.environment_key() == before  # stable while nothing changes
    (site / "newdist-1.0.dist-info").mkdir()
    os.utime(site, ns=(1, 1))  # a coarse-grained file system may not move the mtime itself
    assert external.environment_key() != before
