"""The layers of README.md "Layout" are held by import-linter (``[tool.importlinter]``):
the real tree keeps every contract, each planted forbidden import breaks the contracts that
name its rule, and the contracts still hold once the legacy engine is deleted (Phase 7). The
legacy engine's one way in (``harness/adapters/legacy.py``) is held by the deletion preflight."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from harness.preflight import scan

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")

LAYERS = "Layers: harness > engines (legacy | rust, independent) > extract > contract"
ADAPTERS = "The harness reaches the Rust engine only through harness.adapters"
FINGERPRINT = "backends.contract.fingerprint does not import the Rust engine"

pytestmark = pytest.mark.skipif(not LINT_IMPORTS.exists(), reason="import-linter not installed")


def _lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    # The copy's packages come first on the path (PYTHONPATH precedes the editable install).
    env = {**os.environ, "PYTHONPATH": str(root)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--config", str(root / "pyproject.toml"), "--no-cache"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _copy_tree(into: Path) -> Path:
    """The project's Python packages and its pyproject.toml, nothing else."""
    ignore = shutil.ignore_patterns("__pycache__", "*.so", "*.pyc", "src", "target")
    for package in ("backends", "harness"):
        shutil.copytree(ROOT / package, into / package, ignore=ignore)
    shutil.copy2(ROOT / "pyproject.toml", into / "pyproject.toml")
    return into


def _broken(output: str) -> set[str]:
    return {line.removesuffix(" BROKEN") for line in output.splitlines() if line.endswith("BROKEN")}


def test_the_real_tree_keeps_every_contract() -> None:
    result = _lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    for name in (LAYERS, ADAPTERS, FINGERPRINT):
        assert f"{name} KEPT" in result.stdout


def _plant(root: Path, path: str, statement: str) -> None:
    # At the end of the module, inside a function: lazy imports count as much as top ones.
    target = root / path
    target.write_text(
        target.read_text(encoding="utf-8") + f"\n\ndef _planted() -> None:\n    {statement}\n",
        encoding="utf-8",
    )


# (file to plant into, the import planted, the contracts it breaks)
PLANTED = [
    ("backends/contract/ids.py", "import harness.route", {LAYERS}),
    ("backends/contract/codes.py", "import backends.extract.runner", {LAYERS}),
    ("backends/extract/pool.py", "import harness.telemetry", {LAYERS}),
    ("backends/extract/delta.py", "import backends.legacy", {LAYERS}),
    ("backends/legacy/winner.py", "import backends.rust", {LAYERS, ADAPTERS}),
    ("backends/rust/__init__.py", "import backends.legacy", {LAYERS}),
    ("harness/status.py", "import backends.rust", {ADAPTERS}),
    ("harness/release.py", "from backends.rust import engine_version", {ADAPTERS}),
    (
        "backends/contract/fingerprint.py",
        "from backends.rust import row_hash_sum",
        {LAYERS, ADAPTERS, FINGERPRINT},
    ),
]


@pytest.mark.parametrize(("path", "statement", "contracts"), PLANTED, ids=[p[0] for p in PLANTED])
def test_a_planted_forbidden_import_breaks_its_contract(
    tmp_path: Path, path: str, statement: str, contracts: set[str]
) -> None:
    root = _copy_tree(tmp_path)
    _plant(root, path, statement)
    result = _lint_imports(root)
    assert result.returncode == 1, result.stdout + result.stderr
    assert _broken(result.stdout) == contracts, result.stdout


def test_the_contracts_hold_once_the_legacy_engine_is_deleted(tmp_path: Path) -> None:
    root = _copy_tree(tmp_path)
    shutil.rmtree(root / "backends" / "legacy")
    (root / "harness" / "adapters" / "legacy.py").unlink()
    result = _lint_imports(root)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_harness_importing_the_legacy_engine_elsewhere_is_a_preflight_blocker(
    tmp_path: Path,
) -> None:
    root = _copy_tree(tmp_path)
    _plant(root, "harness/status.py", "import backends.legacy")
    blockers = [(b.path, b.kind, b.target) for b in scan(root).blockers]
    assert ("harness/status.py", "import", "backends.legacy") in blockers
