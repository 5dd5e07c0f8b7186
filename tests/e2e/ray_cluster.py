"""A real Ray cluster on this machine for the tests and benchmarks: a head node that runs no
task (``--num-cpus=0``) and worker nodes of one CPU each, each started with ``ray start
--block`` in a process group of its own, all under one temp folder of their own, so that
:meth:`Cluster.stop` (and :meth:`Cluster.kill_node`) end exactly the processes started here,
never another Ray on the machine."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

RAY = Path(sys.executable).parent / "ray"

#: What a client of the test cluster (a driver such as ``codeanatomy shadow --executor ray``)
#: needs in its environment: token authentication off, as on the cluster (see ray_cluster).
CLIENT_ENV = {"RAY_AUTH_MODE": "disabled"}
START_LIMIT_S = 90.0
STOP_GRACE_S = 5.0
OBJECT_STORE_BYTES = 100 * 1024 * 1024  # /dev/shm may be small: Ray falls back to /tmp


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _processes_under(folder: Path) -> list[int]:
    """Every process whose command line names ``folder`` (the cluster's temp folder)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        with contextlib.suppress(OSError):
            if str(folder).encode() in (entry / "cmdline").read_bytes():
                found.append(int(entry.name))
    return found


def _session(sid: int) -> list[int]:
    """Every process of the session ``sid``: a node's ``ray start``, its raylet, and its
    workers (each in a process group of its own, all in the session ``ray start`` leads)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, ValueError, IndexError):
                # Fields after the command name, which is in parentheses and may hold spaces.
                fields = (entry / "stat").read_text().rpartition(")")[2].split()
                if int(fields[3]) == sid:
                    found.append(int(entry.name))
    return found


def _signal(pids: list[int], sig: signal.Signals) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)


@dataclass
class Cluster:
    address: str
    temp: Path
    nodes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def kill_node(self, node: subprocess.Popen[bytes]) -> None:
        """SIGKILL to every process of the node: ``ray start``, its raylet, its workers."""
        _signal(_session(node.pid), signal.SIGKILL)
        node.wait(timeout=30)

    def stop(self) -> None:
        """``ray stop`` for this cluster only: SIGTERM to its sessions, SIGKILL after a grace
        period, then to anything still running in its temp folder."""
        sessions = [pid for node in self.nodes for pid in _session(node.pid)]
        _signal(sessions, signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE_S
        while time.monotonic() < deadline and any(node.poll() is None for node in self.nodes):
            time.sleep(0.1)
        _signal([pid for node in self.nodes for pid in _session(node.pid)], signal.SIGKILL)
        for node in self.nodes:
            node.wait(timeout=30)
        _signal(_processes_under(self.temp), signal.SIGKILL)
        deadline = time.monotonic() + STOP_GRACE_S
        while time.monotonic() < deadline and (
            _processes_under(self.temp) or any(_session(n.pid) for n in self.nodes)
        ):
            time.sleep(0.1)


def _start(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(
            [str(RAY), "start", "--block", "--disable-usage-stats", *args],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: killed alone
        )


def _wait_for_cpus(address: str, cpus: int, env: dict[str, str]) -> None:
    probe = (
        "import ray, sys; ray.init(address=sys.argv[1], logging_level='ERROR'); "
        "print(int(ray.cluster_resources().get('CPU', 0)))"
    )
    deadline = time.monotonic() + START_LIMIT_S
    while time.monotonic() < deadline:
        done = subprocess.run(
            [sys.executable, "-c", probe, address],
            env=env,
            capture_output=True,
            text=True,
            timeout=START_LIMIT_S,
            check=False,
        )
        if done.returncode == 0 and done.stdout.strip().splitlines()[-1:] == [str(cpus)]:
            return
        time.sleep(1.0)
    raise AssertionError(f"the Ray cluster at {address} never had {cpus} CPUs")


@contextlib.contextmanager
def ray_cluster(
    temp: Path,
    workers: int,
    env: dict[str, str],
    node_env: Callable[[int], dict[str, str]] | None = None,
) -> Iterator[Cluster]:
    """A head node and ``workers`` worker nodes of one CPU each, logging into ``temp``; Ray's
    own temp folder is a new short one under the system's (Ray's socket paths under it must fit
    in 107 bytes, which a pytest-xdist worker's tmp path does not); stopped, every process
    gone and that folder removed on exit. ``node_env(i)``: variables of worker node ``i`` (from
    1) only, over ``env`` (e.g. a cache folder of its own, as another machine's disk)."""
    logs, temp = temp, Path(tempfile.mkdtemp(prefix="ca-ray-"))
    # Ray 2.60 turns token authentication on once a token exists (~/.ray/auth_token, written
    # by an earlier cluster); a client of this loopback-only test cluster then failed to
    # connect ("Failed to connect to Ray cluster"), so the test cluster and its clients opt out.
    env = {**env, "RAY_USAGE_STATS_ENABLED": "0", **CLIENT_ENV}
    port = _free_port()
    address = f"127.0.0.1:{port}"
    common = ["--node-ip-address=127.0.0.1", f"--object-store-memory={OBJECT_STORE_BYTES}"]
    head = _start(
        [
            "--head",
            f"--port={port}",
            "--num-cpus=0",
            "--include-dashboard=false",
            f"--temp-dir={temp}",
            *common,
        ],
        env,
        logs / "head.log",
    )
    running = Cluster(address=address, temp=temp, nodes=[head])
    try:
        _wait_for_cpus(address, 0, env)
        # One after another: nodes started at once on one machine race for the same free
        # ports ("bind: Address already in use").
        for i in range(1, workers + 1):
            running.nodes.append(
                _start(
                    [f"--address={address}", "--num-cpus=1", *common],
                    {**env, **(node_env(i) if node_env is not None else {})},
                    logs / f"worker{i}.log",
                )
            )
            _wait_for_cpus(address, i, env)
        yield running
    finally:
        running.stop()
        left = _processes_under(temp) + [p for n in running.nodes for p in _session(n.pid)]
        assert left == [], f"processes of the cluster still running: {left}"
        shutil.rmtree(temp, ignore_errors=True)
