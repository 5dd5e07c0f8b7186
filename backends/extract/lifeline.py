"""Processes we start die with the run that started them, even when it is killed with SIGKILL.

A run killed at any moment must not leave work behind (issue 18.6): an extraction worker
blocked on its task queue, the multiprocessing fork server and resource tracker that the
workers keep alive, a scip-python indexer still reading the repository. Nothing runs in a
process killed with SIGKILL, so each child watches its parent instead:

- Python children (extraction workers, the shadow candidate) call :func:`die_with` with the
  pid of the process that started the work. A daemon thread waits on a pidfd of that process
  (polls it where pidfds do not exist) and ends the child with ``os._exit`` the moment it
  is gone. Their parent in the process tree is the fork server, not the run, so the kernel's
  parent-death signal would not do. Once the workers are gone, the fork server (which lives
  while a client holds its pipe) and the resource tracker (the same) end on their own.
- Native children (node for scip-python) get the kernel's parent-death signal
  (``PR_SET_PDEATHSIG``, Linux) through :func:`die_with_parent_preexec`, and run in their own
  process group so that a timeout kills their children too.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import select
import signal
import sys
import threading
import time
from collections.abc import Callable
from typing import Final

EXIT_ORPHANED: Final = 70
"""The exit status of a child whose run went away (EX_SOFTWARE)."""
_POLL_S: Final = 0.5
_PR_SET_PDEATHSIG: Final = 1


def _wait_for_exit(pid: int) -> None:
    """Return once process ``pid`` has ended (at once if it already has)."""
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        return
    except (AttributeError, OSError):  # no pidfd here (macOS, old kernels): poll
        while True:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return
            except PermissionError:
                pass  # it exists (owned by someone else after a pid reuse: rare, harmless)
            time.sleep(_POLL_S)
    try:
        # A pidfd becomes readable when the process ends; select releases the GIL meanwhile.
        select.select([fd], [], [])
    finally:
        os.close(fd)


def die_with(pid: int) -> None:
    """End this process as soon as process ``pid`` ends (a daemon thread watches it).

    Call it first thing in a child; ``pid`` must be the run's process, alive at the call.
    """
    if pid == os.getpid():
        return

    def watch() -> None:
        _wait_for_exit(pid)
        with contextlib.suppress(OSError, ValueError):
            sys.stderr.flush()
        os._exit(EXIT_ORPHANED)

    threading.Thread(target=watch, name=f"lifeline-{pid}", daemon=True).start()


def _prctl() -> Callable[..., int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl
    except (OSError, AttributeError):
        return None


# Looked up once, here: the function that runs between fork and exec must not import,
# allocate much or take a lock another thread may hold.
_PRCTL: Final = _prctl()


def die_with_parent_preexec() -> Callable[[], None] | None:
    """A ``preexec_fn`` for ``subprocess.Popen`` that has the kernel kill the child (SIGKILL)
    when the thread that started it ends: keep that thread waiting for the child. None where
    the kernel has no such signal (the child then relies on its own timeout)."""
    prctl = _PRCTL
    if prctl is None:
        return None
    parent = os.getpid()
    sigkill = int(signal.SIGKILL)

    def preexec() -> None:
        prctl(_PR_SET_PDEATHSIG, sigkill, 0, 0, 0)
        if os.getppid() != parent:  # the parent died before the signal was armed
            os._exit(EXIT_ORPHANED)

    return preexec
