"""Where the scip-python indexer comes from, and its one-time install for a wheel install.

In a clone, ``make scip`` installs the pinned indexer into ``tools/scip/node_modules``. A wheel
installed with pip has no ``tools/`` folder: on first use the pinned version is installed with
npm into the user cache (``$CODEANATOMY_CACHE/scip/<version>``, else
``~/.cache/codeanatomy/scip/<version>``), once, with a message on stderr. Set
``CODEANATOMY_SCIP_AUTO_INSTALL=0`` to forbid that (the run then warns ``SCIP_UNAVAILABLE``).

Lookup order: an explicit path, ``$CODEANATOMY_SCIP_BIN``, the clone's ``tools/scip``, the
user cache, ``scip-python`` on ``PATH`` (absolute entries only), then the one-time install.
"""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
from pathlib import Path
from typing import Final

from backends.extract import isolation

PACKAGE: Final = "@sourcegraph/scip-python"
PINNED: Final = "0.6.6"
"""The indexer version; ``tools/scip/package.json`` pins the same (a test checks)."""
BIN_ENV: Final = "CODEANATOMY_SCIP_BIN"
AUTO_INSTALL_ENV: Final = "CODEANATOMY_SCIP_AUTO_INSTALL"
INSTALL_TIMEOUT_S: Final = 900.0
PROJECT_ROOT: Final = Path(__file__).resolve().parents[3]
CLONE_BIN: Final = PROJECT_ROOT / "tools" / "scip" / "node_modules" / ".bin" / "scip-python"


def user_dir() -> Path:
    """The user-cache folder the pinned indexer is installed into."""
    explicit = os.environ.get("CODEANATOMY_CACHE")
    if explicit:
        base = Path(explicit)
    else:
        xdg = os.environ.get("XDG_CACHE_HOME")
        base = (Path(xdg) if xdg else Path.home() / ".cache") / "codeanatomy"
    return base.absolute() / "scip" / PINNED


def _runnable(path: Path) -> bool:
    return path.is_file() and os.access(path, os.X_OK)


def _user_bin() -> Path:
    return user_dir() / "node_modules" / ".bin" / "scip-python"


def find_binary(scip_bin: Path | None = None) -> Path | None:
    """The first indexer of the lookup order that exists; None when there is none yet.

    An explicit path or ``$CODEANATOMY_SCIP_BIN`` is returned as given, runnable or not: the
    user chose it, and its absence is reported rather than replaced by another indexer.
    """
    if scip_bin is not None:
        return scip_bin.absolute()
    from_env = os.environ.get(BIN_ENV)
    if from_env:
        return Path(from_env).absolute()
    for candidate in (CLONE_BIN, _user_bin()):
        if _runnable(candidate):
            return candidate
    on_path = isolation.which_trusted("scip-python")
    return Path(on_path) if on_path else None


class InstallError(Exception):
    """The one-time install could not run or failed; the message says why."""


def install() -> Path:
    """Install the pinned indexer into :func:`user_dir` with npm (once; concurrent runs wait
    for each other) and return its launcher. Raises InstallError."""
    if os.environ.get(AUTO_INSTALL_ENV, "1") == "0":
        raise InstallError(f"scip-python is not installed and {AUTO_INSTALL_ENV}=0")
    npm = isolation.which_trusted("npm")
    if npm is None:
        raise InstallError("scip-python is not installed and npm is not on PATH to install it")
    target = user_dir()
    target.mkdir(parents=True, exist_ok=True)
    with (target.parent / f".{PINNED}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if _runnable(_user_bin()):  # another run installed it while we waited
            return _user_bin()
        spec = f"{PACKAGE}@{PINNED}"
        print(
            f"codeanatomy: scip-python not found; installing {spec} into {target} (once)",
            file=sys.stderr,
            flush=True,
        )
        argv = [npm, "install", "--no-audit", "--no-fund", "--loglevel=error", "--prefix"]
        try:
            done = subprocess.run(
                [*argv, str(target), "--save-exact", spec],
                cwd=target,
                env=isolation.child_environ(),
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                timeout=INSTALL_TIMEOUT_S,
                check=False,
            )
        except (OSError, subprocess.SubprocessError) as exc:
            raise InstallError(f"npm install {spec} could not run: {exc}") from exc
        if done.returncode != 0 or not _runnable(_user_bin()):
            tail = " ".join(done.stderr.strip().splitlines()[-3:])
            raise InstallError(f"npm install {spec} failed (exit {done.returncode}): {tail}")
    return _user_bin()
