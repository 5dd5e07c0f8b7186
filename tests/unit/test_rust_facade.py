"""The typed facade over the compiled engine: every export wrapped, the stub true to it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import backends.rust as facade
from backends.rust import _engine

ROOT = Path(__file__).parents[2]


def _exports() -> set[str]:
    return {n for n in dir(_engine) if not n.startswith("_") and callable(getattr(_engine, n))}


def test_every_compiled_export_has_a_facade_wrapper() -> None:
    assert _exports() == set(facade.WRAPPED_EXPORTS)
    for wrapper in facade.WRAPPED_EXPORTS.values():
        assert wrapper in facade.__all__
        assert callable(getattr(facade, wrapper))


def test_stub_matches_the_compiled_module() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "mypy.stubtest", "backends.rust._engine"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_engine_version_names_datafusion_and_delta() -> None:
    version = facade.engine_version()
    assert "datafusion 55." in version
    assert "deltalake-core" in version


def test_spec_hash_rejects_non_json_with_value_error() -> None:
    import pytest

    with pytest.raises(ValueError, match="not valid JSON"):
        facade.spec_hash("{nope")
