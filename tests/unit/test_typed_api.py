"""The typed public API (issue 15, part 4): every name of ``harness.__all__`` resolves, the
packages carry ``py.typed``, and code written as a user writes it passes ``mypy --strict``
against the installed package."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import harness

ROOT = Path(__file__).resolve().parents[2]
USER_STYLE = ROOT / "tests" / "typing" / "user_style.py"


@pytest.mark.parametrize("name", harness.__all__)
def test_every_public_name_resolves_to_its_home(name: str) -> None:
    import importlib

    home = importlib.import_module(harness._HOME[name])
    assert getattr(harness, name) is getattr(home, name)


def test_the_public_names_are_listed_once_and_sorted() -> None:
    assert harness.__all__ == sorted(set(harness.__all__))
    assert set(harness.__all__) == set(harness._HOME)


@pytest.mark.parametrize("package", ["harness", "backends"])
def test_packages_are_marked_typed(package: str) -> None:
    # maturin puts every file of the packages in the wheel (python-source ".", the module
    # name's package and python-packages) unless .gitignore excludes it.
    assert (ROOT / package / "py.typed").is_file()
    ignored = subprocess.run(
        ["git", "check-ignore", "-q", f"{package}/py.typed"], cwd=ROOT, check=False
    )
    assert ignored.returncode == 1, f"{package}/py.typed is git-ignored: not in the wheel"


@pytest.mark.slow
def test_user_style_code_passes_mypy_strict(tmp_path: Path) -> None:
    # A copy outside the clone: mypy finds harness only as an installed package, through the
    # editable install's .pth, which it accepts only for a package marked py.typed.
    user = tmp_path / "user_style.py"
    shutil.copy(USER_STYLE, user)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--strict",
            "--no-error-summary",
            "--cache-dir",
            str(tmp_path / ".mypy_cache"),
            user.name,
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
