"""The wheel installs with pip on a machine without Rust and runs (issue 15, part 1).

Builds the abi3 wheel with maturin (the shared target folder makes this a repackaging after
``make sync``), installs it with pip into a fresh virtualenv of the machine's CPython, and runs
``build`` and ``shadow`` on a golden repository from a folder outside the clone, with a PATH
that holds no Rust toolchain and a cache with no scip-python: the first run installs the
pinned indexer into the user cache (npm, from the registry).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def _run(
    argv: list[str],
    *,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    timeout: float = 1200,
) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        argv, env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False
    )
    assert done.returncode == 0, (argv, done.returncode, done.stdout[-3000:], done.stderr[-3000:])
    return done


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if shutil.which("cargo") is None:
        pytest.skip("building the wheel needs cargo (the wheel itself does not)")
    dist = tmp_path_factory.mktemp("dist")
    env = dict(os.environ)
    env.setdefault("CARGO_TARGET_DIR", str(Path.home() / ".cache" / "codeanatomy" / "target"))
    _run(
        [str(BIN / "maturin"), "build", "--release", "--locked", "--out", str(dist)],
        env=env,
        cwd=ROOT,
    )
    [built] = dist.glob("codeanatomy-*-cp311-abi3-*.whl")
    return built


def test_the_wheel_runs_build_and_shadow_without_rust(wheel: Path, tmp_path: Path) -> None:
    base = Path(getattr(sys, "_base_executable", sys.executable))
    venv = tmp_path / "venv"
    _run([str(base), "-m", "venv", str(venv)])
    # The user's environment (proxies, CA bundles for pip and npm) without a Rust toolchain,
    # the clone's virtualenv or anything that would make the clone importable.
    keep = [
        entry
        for entry in os.environ["PATH"].split(os.pathsep)
        if entry
        and Path(entry).resolve() != BIN.resolve()
        and not any((Path(entry) / tool).exists() for tool in ("cargo", "rustc", "rustup"))
    ]
    dropped = ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "CARGO", "RUSTUP", "CODEANATOMY_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(dropped)}
    env |= {
        "PATH": os.pathsep.join([str(venv / "bin"), *keep]),
        "CODEANATOMY_CACHE": str(tmp_path / "cache"),
    }
    assert shutil.which("cargo", path=env["PATH"]) is None
    _run([str(venv / "bin" / "pip"), "install", "--quiet", f"{wheel}[legacy]"], env=env)
    where = _run(
        [
            str(venv / "bin" / "python"),
            "-c",
            "import backends.rust, harness; print(backends.rust.__file__); print(harness.__file__)",
        ],
        env=env,
        cwd=tmp_path,
    ).stdout.split()
    assert all(Path(p).is_relative_to(venv) for p in where), where
    cli = str(venv / "bin" / "codeanatomy")
    repo = ROOT / "golden_repos" / "oop"
    built = _run(
        [cli, "build", str(repo), "--out", "b", "--backend", "rust", "--json"],
        env=env,
        cwd=tmp_path,
    )
    manifest = json.loads(built.stdout)
    assert manifest["backend"] == "rust"
    assert "SCIP_UNAVAILABLE" not in manifest["warnings_by_code"], manifest["warnings_by_code"]
    assert "installing @sourcegraph/scip-python@" in built.stderr  # first use: installed once
    scip = next(t for t in manifest["inputs"] if t["table"] == "scip")
    assert scip["rows"] > 0
    shadow = _run([cli, "shadow", str(repo), "--out", "s", "--json"], env=env, cwd=tmp_path)
    assert "installing" not in shadow.stderr  # the cached indexer is used
    report = json.loads(shadow.stdout)
    assert report["verdict"] == "pass", report
