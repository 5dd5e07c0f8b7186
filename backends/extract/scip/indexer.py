"""Runs the scip-python indexer in a sandboxed subprocess and reports how the run went.

The indexer never sees the analyzed repository itself. It indexes a *mirror*: a fresh
directory under the work dir holding the canonical text (UTF-8, newlines untouched) of every
scanned Python file, plus a pyright config of our own. That gives four guarantees at once:

- nothing is written into the analyzed repo, and nothing outside the scanned set is read
  (pyright otherwise walks up from the root looking for ``pyrightconfig.json`` /
  ``pyproject.toml`` and would pick up an enclosing project's settings);
- SCIP positions are positions in the canonical text, so ``LineIndex`` maps them exactly,
  even for files with a BOM or a non-UTF-8 encoding cookie;
- the run is reproducible: Python version and platform are pinned in the config, the
  project version is a constant, the package environment is an explicit empty list (so
  scip-python never shells out to pip);
- no interpreter is found on ``PATH`` (it holds only a link to ``node``), so pyright cannot
  execute Python to discover site-packages; stdlib names come from its bundled typeshed.

Networking is cut with ``unshare --net`` when that works here (root or user namespaces);
otherwise the run goes ahead without it.

A run can be limited to *targets* (a shard, or the files a cache missed): the mirror still
holds every file, so imports resolve exactly as in a whole-repository run, and the config's
``include`` lists the targets in the order given. scip-python's own ``--target-only PATH``
does not fit: it takes one path prefix, not a set of files, and it makes document paths
relative to that prefix. Either way scip-python also emits documents for the project files
its targets import (pyright tracks them once they are imported); callers keep only the
documents of their targets.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Mapping, Sequence
from functools import cache
from pathlib import Path, PurePosixPath

import msgspec

from backends.extract import isolation, lifeline

# The only runtime settings of pyright we pin; everything else keeps scip-python's defaults.
PYTHON_VERSION = "3.11"
PROJECT_VERSION = "0"  # constant: scip-python would otherwise use the git commit (FACTS.md)
# pyright adds default excludes (`**/.*`, ...) whenever the configured list is empty; one
# pattern that matches nothing keeps every scanned file (repo_scan already chose them).
_NO_EXCLUDE = "**/__codeanatomy_scip_exclude_nothing__"
# Every pinned setting that changes the rows, for cache keys.
SETTINGS = f"python={PYTHON_VERSION};platform=Linux;project_version={PROJECT_VERSION}"
_CONFIG_NAME = "scip-pyrightconfig.json"  # scip-python's first choice of config file name
_STDERR_TAIL_CHARS = 4000


class IndexRun(msgspec.Struct, frozen=True, kw_only=True):
    """What one indexer run produced: the index file when it succeeded, else why not."""

    index_path: Path | None
    returncode: int | None
    timed_out: bool
    stderr_tail: str
    out_of_memory: bool
    elapsed_s: float
    peak_rss_mb: float | None
    network_isolated: bool


def safe_relative(path: str) -> bool:
    """Whether a repo-relative POSIX path stays inside the directory it is joined to."""
    p = PurePosixPath(path)
    return bool(path) and not p.is_absolute() and ".." not in p.parts and "\\" not in path


def include_specs(targets: Sequence[str]) -> list[str]:
    """pyright ``include`` entries that name exactly ``targets``, in their order.

    pyright reads ``*`` and ``?`` in an entry as wildcards; a path holding one is named by the
    folder above its first such part instead (more files indexed, never fewer: the caller
    keeps only the documents of its targets). Never empty for non-empty ``targets``: pyright
    would index the whole folder for an empty list.
    """
    specs: dict[str, None] = {}
    for target in targets:
        parts = PurePosixPath(target).parts
        wild = next((i for i, part in enumerate(parts) if "*" in part or "?" in part), None)
        spec = target if wild is None else "/".join(parts[:wild]) or "."
        specs.setdefault(spec)
    return list(specs)


def write_mirror(
    texts: Mapping[str, str], root: Path, targets: Sequence[str] | None = None
) -> None:
    """Write every canonical text under ``root`` as UTF-8, newlines untouched.

    ``targets`` (None: every file) are the files scip-python indexes; the others are only
    there to be imported. Paths must already satisfy :func:`safe_relative`.
    """
    for rel, text in texts.items():
        dest = root.joinpath(*PurePosixPath(rel).parts)
        dest.parent.mkdir(parents=True, exist_ok=True)
        with dest.open("w", encoding="utf-8", newline="") as fh:
            fh.write(text)
    config: dict[str, object] = {
        "pythonVersion": PYTHON_VERSION,
        "pythonPlatform": "Linux",
        "exclude": [_NO_EXCLUDE],
    }
    if targets is not None:
        config["include"] = include_specs(targets)
    (root / _CONFIG_NAME).write_text(json.dumps(config, sort_keys=True), encoding="utf-8")


@cache
def _unshare_net() -> tuple[str, ...]:
    """The command prefix that cuts networking, or () when it does not work here."""
    unshare = isolation.which_trusted("unshare")
    true = isolation.which_trusted("true")
    if unshare is None or true is None:
        return ()
    try:
        probe = subprocess.run(
            [unshare, "--net", "--", true],
            env=isolation.child_environ(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return ()
    return (unshare, "--net", "--") if probe.returncode == 0 else ()


def _stderr(path: Path) -> tuple[str, bool]:
    """The tail of the indexer's stderr, and whether V8 reported heap exhaustion in it."""
    try:
        data = path.read_bytes()
    except OSError:
        return "", False
    # The V8 message comes before a long native stack trace: look at all of it.
    oom = b"heap out of memory" in data
    return data[-_STDERR_TAIL_CHARS:].decode("utf-8", errors="replace"), oom


def _wait(proc: subprocess.Popen[bytes], timeout_s: float) -> tuple[int | None, float | None]:
    """Wait for ``proc`` with a deadline; return (exit code or None on timeout, peak RSS MB).

    ``os.wait4`` gives this child's own peak RSS, which ``Popen.wait`` throws away.
    """
    deadline = time.monotonic() + timeout_s
    delay = 0.01
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid == proc.pid:
            code = os.waitstatus_to_exitcode(status)
            proc.returncode = code  # reaped here: keep Popen from waiting on it again
            return code, usage.ru_maxrss / 1024.0  # Linux reports KiB
        if time.monotonic() >= deadline:
            return None, None
        time.sleep(delay)
        delay = min(delay * 2, 0.2)


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def run_indexer(
    texts: Mapping[str, str],
    work_dir: Path,
    *,
    scip_bin: Path,
    node_bin: Path,
    project_name: str,
    timeout_s: float,
    max_old_space_mb: int,
    targets: Sequence[str] | None = None,
) -> IndexRun:
    """Index ``texts`` with scip-python inside ``work_dir``; never raises for a failed run.

    OSError from preparing the work dir or starting the process propagates (the caller
    turns it into a warning).
    """
    # Absolute: node's PATH entry and the indexer's --cwd must not depend on our working
    # directory (a relative --out made node unfindable: SCIP_FAILED on every golden run).
    work_dir = work_dir.absolute()
    work_dir.mkdir(parents=True, exist_ok=True)
    # What a run killed mid-index left (its mirror is a full copy of the repository's code):
    # the run folder is held by one writer, so no other run is using these.
    for stale in work_dir.glob("run-*"):
        shutil.rmtree(stale, ignore_errors=True)
    run_dir = Path(tempfile.mkdtemp(prefix="run-", dir=work_dir))
    mirror = run_dir / "src"
    bin_dir = run_dir / "bin"
    home = run_dir / "home"
    for d in (mirror, bin_dir, home):
        d.mkdir()
    write_mirror(texts, mirror, targets)
    # `#!/usr/bin/env node` in the scip-python launcher finds this link and nothing else.
    (bin_dir / "node").symlink_to(node_bin)
    env_file = run_dir / "environment.json"
    env_file.write_text("[]", encoding="utf-8")
    index_path = run_dir / "index.scip"
    stdout_path = run_dir / "stdout.txt"
    stderr_path = run_dir / "stderr.txt"

    isolate = _unshare_net()
    argv = [
        *isolate,
        str(scip_bin),
        "index",
        "--quiet",
        "--cwd",
        str(mirror),
        "--project-name",
        project_name,
        "--project-version",
        PROJECT_VERSION,
        "--environment",
        str(env_file),
        "--output",
        str(index_path),
    ]
    env = {
        "PATH": str(bin_dir),
        "HOME": str(home),
        "TMPDIR": str(home),  # pyright writes a temp dir; keep it inside the work dir
        "NODE_OPTIONS": f"--max-old-space-size={int(max_old_space_mb)}",
    }
    started = time.monotonic()
    with stdout_path.open("wb") as out, stderr_path.open("wb") as err:
        proc = subprocess.Popen(
            argv,
            cwd=mirror,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            start_new_session=True,  # its own process group, so a timeout kills every child
            # Killed by the kernel if this run dies (SIGKILL included) while it indexes.
            preexec_fn=lifeline.die_with_parent_preexec(),  # noqa: PLW1509
        )
        code, peak_mb = _wait(proc, timeout_s)
        if code is None:
            _kill_group(proc)
    elapsed = time.monotonic() - started
    # The mirror is a full copy of the repo's Python text: do not leave it behind.
    shutil.rmtree(mirror, ignore_errors=True)
    ok = code == 0 and index_path.is_file()
    tail, oom = _stderr(stderr_path)
    return IndexRun(
        index_path=index_path if ok else None,
        returncode=code,
        timed_out=code is None,
        stderr_tail=tail,
        out_of_memory=oom,
        elapsed_s=round(elapsed, 3),
        peak_rss_mb=None if peak_mb is None else round(peak_mb, 1),
        network_isolated=bool(isolate),
    )
