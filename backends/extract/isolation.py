"""Child processes that can never import the analysed repository (issue 19).

codeanatomy is often started from inside the repository it analyses (``cd repo; codeanatomy
extract .`` is how CI runs tools on a checkout). Every process it starts must be blind to that
folder, or a file named like a standard-library module (``signal.py``, ``types.py``) would be
imported, and executed, by our own children:

- multiprocessing starts its fork server and resource tracker as ``python -c ...``; ``-c``
  puts the working directory first on ``sys.path``. Every interpreter multiprocessing starts
  here runs with ``-I`` (isolated: no working directory or script directory on ``sys.path``,
  no ``PYTHON*`` variables such as ``PYTHONPATH``/``PYTHONSTARTUP``, no user site-packages,
  so no ``usercustomize``).
- multiprocessing then hands each child the parent's ``sys.path`` (and changes to the
  parent's working directory). A parent started with ``python -m``, ``python -c`` or a
  ``PYTHONPATH`` into the repo has the repo on that path. Children get only the entries that
  belong to the interpreter (its prefixes: standard library, site-packages) and the folder
  that holds codeanatomy itself.
- tools that are not Python (scip-python on node) get an environment we write, never the
  user's, and are found only on absolute ``PATH`` entries outside the working directory.

Both multiprocessing hooks are module attributes that the standard library looks up on every
start (``multiprocessing.util._args_from_interpreter_flags`` for the fork server, resource
tracker and spawned children; ``multiprocessing.spawn.get_preparation_data`` for every child
process), so replacing them once, here, covers every start method and every child; there is
no public API for either. :func:`install` is idempotent and runs on import.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.forkserver
import multiprocessing.spawn
import multiprocessing.util
import os
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

# The folder that holds the ``backends`` and ``harness`` packages (an editable checkout or
# site-packages): the one place outside the interpreter that children may import from.
PACKAGE_ROOT = Path(__file__).resolve().parents[2]

# PYTHON* variables a child may keep: they change no import and run no code.
_KEEP_PYTHON_VARS = frozenset(
    {"PYTHONHASHSEED", "PYTHONUNBUFFERED", "PYTHONUTF8", "PYTHONIOENCODING"}
)

# Private hooks of the standard library (no public API; typeshed does not declare the first).
_FLAGS_HOOK = "_args_from_interpreter_flags"
_ORIGINAL_FLAGS: Callable[[], list[str]] = getattr(multiprocessing.util, _FLAGS_HOOK)
_ORIGINAL_PREPARATION: Callable[[str], dict[str, Any]] = multiprocessing.spawn.get_preparation_data


def interpreter_flags() -> list[str]:
    """The parent's interpreter flags with ``-I`` instead of ``-E``/``-s``/``-P``."""
    flags = [f for f in _ORIGINAL_FLAGS() if f not in ("-E", "-s", "-P", "-I")]
    return [*flags, "-I"]


def _trusted_roots() -> tuple[Path, ...]:
    prefixes = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}
    return (PACKAGE_ROOT, *sorted(Path(p).resolve() for p in prefixes))


def child_sys_path(entries: list[str] | None = None) -> list[str]:
    """``entries`` (default ``sys.path``) without what could belong to an analysed repo.

    Kept: absolute entries under the interpreter's prefixes and the package root itself.
    Dropped: ``''`` and other relative entries, the working directory, ``PYTHONPATH``
    entries, and every other folder (a ``python -m`` started in the repo puts it here).
    """
    roots = _trusted_roots()
    kept: list[str] = []
    for entry in sys.path if entries is None else entries:
        if not entry or not Path(entry).is_absolute():
            continue
        path = Path(entry).resolve()
        if path == PACKAGE_ROOT or any(
            root != PACKAGE_ROOT and path.is_relative_to(root) for root in roots
        ):
            kept.append(entry)
    return kept


def _preparation_data(name: str) -> dict[str, Any]:
    data = _ORIGINAL_PREPARATION(name)
    data["sys_path"] = child_sys_path(data.get("sys_path"))
    return data


def child_environ(base: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment for a child we start: ``base`` (default ``os.environ``) without the
    ``PYTHON*`` variables that add import paths or run code at start-up."""
    env = dict(os.environ if base is None else base)
    return {k: v for k, v in env.items() if not k.startswith("PYTHON") or k in _KEEP_PYTHON_VARS}


def which_trusted(name: str) -> str | None:
    """``name`` on ``PATH``, looked up only in absolute entries other than the working directory.

    ``shutil.which`` would honour an empty or relative ``PATH`` entry (``.``,
    ``node_modules/.bin``), which means a folder of the working directory: started inside an
    analysed repo, its ``./node`` would run.
    """
    cwd = Path.cwd().resolve()
    for entry in os.environ.get("PATH", os.defpath).split(os.pathsep):
        if not entry or not Path(entry).is_absolute():
            continue
        folder = Path(entry).resolve()
        if folder == cwd:
            continue
        candidate = folder / name
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    return None


def _stop_unsafe_forkserver() -> None:
    # A fork server started before install() (an embedding application's) would keep the
    # sys.path it was started with: stop it, so the next start is an isolated one.
    server = multiprocessing.forkserver._forkserver
    if getattr(server, "_forkserver_pid", None) is not None:
        server._stop()  # type: ignore[attr-defined]


def install() -> None:
    """Make every interpreter multiprocessing starts from now on isolated (idempotent)."""
    if getattr(multiprocessing.util, _FLAGS_HOOK) is interpreter_flags:
        return
    _stop_unsafe_forkserver()
    setattr(multiprocessing.util, _FLAGS_HOOK, interpreter_flags)
    multiprocessing.spawn.get_preparation_data = _preparation_data


def forkserver_context() -> multiprocessing.context.ForkServerContext:
    """The fork-server context, with every child isolated from the analysed repo."""
    install()
    return multiprocessing.get_context("forkserver")


install()
