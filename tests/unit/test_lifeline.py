"""Children die with the run that started them, SIGKILL included (backends/extract/lifeline.py).

Each test starts a "run" process that starts a child and prints the child's pid, kills the
run with SIGKILL, and watches the child. The control case (no lifeline) shows the child
would otherwise live on, so the tests can fail.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from backends.extract import lifeline

_PY_CHILD = (
    "import os, subprocess, sys, time\n"
    "code = {child!r}.format(run=os.getpid())\n"
    "child = subprocess.Popen([sys.executable, '-c', code])\n"
    "print(child.pid, flush=True)\n"
    "time.sleep(60)\n"
)
_WATCHING = (
    "from backends.extract.lifeline import die_with\ndie_with({run})\nimport time\ntime.sleep(60)"
)
_NOT_WATCHING = "import time\ntime.sleep(60)"
_NATIVE_CHILD = (
    "import subprocess, time\n"
    "from backends.extract.lifeline import die_with_parent_preexec\n"
    "child = subprocess.Popen(['sleep', '60'], preexec_fn={preexec})\n"
    "print(child.pid, flush=True)\n"
    "time.sleep(60)\n"
)


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _kill_run_and_watch(script: str) -> bool:
    """Start ``script`` as the run, SIGKILL it once it printed its child's pid; whether the
    child is still alive 5 s later (it is then killed)."""
    run = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert run.stdout is not None
    child = int(run.stdout.readline())
    time.sleep(0.3)  # the child has armed its lifeline
    assert _alive(child)
    run.send_signal(signal.SIGKILL)
    run.wait()
    deadline = time.monotonic() + 5
    while _alive(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    survived = _alive(child)
    if survived:
        os.kill(child, signal.SIGKILL)
    return survived


pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc, prctl")


def test_a_python_child_with_a_lifeline_dies_with_the_run() -> None:
    assert not _kill_run_and_watch(_PY_CHILD.format(child=_WATCHING))


def test_a_python_child_without_one_outlives_the_run() -> None:
    assert _kill_run_and_watch(_PY_CHILD.format(child=_NOT_WATCHING))


def test_a_native_child_dies_with_the_run() -> None:
    assert not _kill_run_and_watch(_NATIVE_CHILD.format(preexec="die_with_parent_preexec()"))


def test_a_native_child_without_the_signal_outlives_the_run() -> None:
    assert _kill_run_and_watch(_NATIVE_CHILD.format(preexec="None"))


def test_watching_oneself_starts_nothing() -> None:
    before = threading.active_count()
    lifeline.die_with(os.getpid())
    assert threading.active_count() == before
