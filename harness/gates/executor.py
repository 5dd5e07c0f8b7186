"""Where the repositories of a parity suite run: in this process, one after another
(``local``, the default), or each as one Ray task on a cluster (``ray``,
``codeanatomy[distributed]``).

A Ray task is one repository's whole shadow run (extraction, both backends, the comparison:
:func:`harness.shadow.runner.run_shadow`), writing its run to ``OUT/<name>``. The driver
gathers the outcomes in the repositories' order, and :func:`harness.gates.suite.run_suite`
assembles the one report and appends the one parity-history row exactly as for a local run.

Where a task writes: with a local ``OUT`` (one machine, or a file system every node mounts),
into ``OUT/<name>`` itself. With an object-store ``OUT`` (``s3://``; the driver stages the suite
in a local folder, :func:`harness.staging.staged_out`), each task gets its run's URI
(``<OUT>/<name>``) and the storage options (:class:`RemoteRun`), stages the run in a folder
on its own node (pulled from the bucket first, so incremental runs start from the bucket's
state) and publishes it to the bucket before it returns; the paths of the outcome it returns
are rewritten from that folder to the driver's staging folder of the run, into which the
driver then pulls the run from the bucket (so the report reads it, and the driver's own
publish, which never sends back a file it pulled unchanged, cannot overwrite the task's fresher
files). No node ever relies on another's disk. The credentials among the storage options
travel to the task as its arguments only (held by Ray like any argument, for the task's
lifetime): never set in the nodes' environment, never printed (``repr`` leaves them out, error
messages are redacted), never written in a run (``run.json`` holds URIs only). A
task whose own bucket access fails (``STORAGE_*`` codes: refused credentials, endpoint
unreachable, bucket missing) gives its repository a harness fault with that code (sev1, never
a pass), as a task that died does; the other repositories are unaffected.

A task whose worker or node dies is retried once (``max_retries=1``); if it dies again, or Ray
cannot run it at all, the repository gets a harness fault (``EXECUTOR_TASK_FAILED``, sev1) in
its Result, never a pass, and no other repository's Result changes. What a task raises itself
(the primary's engine error, a strict-mode failure, a bug) reaches the driver as it would have
locally: the primary's :class:`~harness.errors.EngineFailure` still exits 3.

Ray is imported here only, and only when the Ray executor is chosen.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, redirect_stdout
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import msgspec

from harness.compare.result import judge
from harness.errors import EngineFailure, UsageError
from harness.run.request import BuildRequest
from harness.shadow.observation import HarnessFault, Observation
from harness.shadow.runner import ShadowError, ShadowOptions, ShadowOutcome, run_shadow, side_dirs

EXECUTORS = ("local", "ray")
INSTALL_HINT = "pip install 'codeanatomy[distributed]' (or uv sync --extra distributed)"
TASK_FAILED = "EXECUTOR_TASK_FAILED"
"""The harness-fault code of a repository whose Ray task died twice or could not run."""
TASK_RETRIES = 1
"""How often Ray runs a task again whose worker or node died (system failures only; what the
task raises itself is never retried)."""
TASK_CPUS = 1.0
"""Logical CPUs a task reserves: a node with ``--num-cpus=N`` runs N repositories at once (each
also starts its own extraction workers and the candidate's process, per ``[extract] workers``)."""
UV_RUN_HOOK = "RAY_ENABLE_UV_RUN_RUNTIME_ENV"
"""Ray's switch (on by default) that makes a driver started by ``uv run`` ship its working
folder to the workers and start them with ``uv run``: turned off (:func:`import_ray`)."""
CRASH_ENV = "CODEANATOMY_TEST_RAY_CRASH_REPO"
"""Test hook: a Ray worker whose environment names a repository in this variable exits at once
when it starts that repository's task (every attempt), as a worker killed by the kernel would.
Set only on the worker nodes of the test cluster (tests/e2e/test_ray_executor.py); it is read
inside Ray tasks only, never by the local executor."""


@dataclass(frozen=True)
class RemoteRun:
    """Where a task that runs on another node publishes its run: the run's object-store URI
    and the storage options (credentials among them: left out of ``repr``)."""

    uri: str
    options: dict[str, str] = field(repr=False)
    node_cache: bool = False
    """The extraction cache is the per-user one (``[extract] cache = true``): the node's own,
    not the driver's folder of that name."""


@dataclass(frozen=True)
class RepoTask:
    """One repository of a suite: its build request (the run folder ``OUT/<name>``, as the
    driver sees it), the two backends and the shadow options; ``remote`` when the run is
    published to a bucket by the task itself (Ray tasks, object-store ``OUT``)."""

    name: str
    request: BuildRequest
    primary: str
    candidate: str
    options: ShadowOptions
    remote: RemoteRun | None = None


Pending = Callable[[], ShadowOutcome]
"""A repository's outcome, computed (local) or awaited (Ray) when called."""


class Executor(Protocol):
    """Runs the repositories of a suite; :meth:`submit` gives one :data:`Pending` per task, in
    the tasks' order."""

    name: str
    in_process: bool
    """Whether tasks run in this process (progress callbacks reach them)."""

    def session(self) -> AbstractContextManager[None]:
        """Connected (Ray) for the duration of the suite."""
        ...

    def submit(self, tasks: Sequence[RepoTask]) -> list[Pending]: ...


class LocalExecutor:
    """Every repository in this process, one after another, each when its turn comes (today's
    behaviour: a primary's error stops the suite before the next repository starts)."""

    name = "local"
    in_process = True

    @contextmanager
    def session(self) -> Iterator[None]:
        yield

    def submit(self, tasks: Sequence[RepoTask]) -> list[Pending]:
        return [
            functools.partial(run_shadow, t.request, t.primary, t.candidate, t.options)
            for t in tasks
        ]


@dataclass(frozen=True)
class TaskReturn:
    """What a Ray task sends back: the outcome without its exception (an
    :class:`EngineFailure` does not survive pickling: its constructor takes five arguments),
    the primary's engine error as its JSON shape, and a strict-mode failure's message."""

    outcome: ShadowOutcome | None
    primary_error: dict[str, Any] | None = None
    strict_error: str | None = None
    raised: dict[str, Any] | None = None
    """An engine error raised before the sides ran (the shared extraction's), as its JSON
    shape."""
    storage_error: dict[str, str] | None = None
    """The task's own bucket access failed (staging or publishing its run): the error's
    ``code`` (``STORAGE_*``) and ``message`` (secrets redacted)."""


def run_task(task: RepoTask) -> TaskReturn:
    """The body of a Ray task: one repository's shadow run, made picklable; with
    ``task.remote``, staged on this node and published to the bucket before it returns."""
    if os.environ.get(CRASH_ENV) == task.name:
        os._exit(1)
    if task.remote is None:
        return _run(task)
    from harness.staging import staged_out
    from harness.storage import STORAGE_CODES

    request = task.request
    if task.remote.node_cache:
        from backends.extract.cache import default_cache_dir

        extract = dataclasses.replace(request.extract, cache_dir=default_cache_dir())
        request = dataclasses.replace(request, extract=extract)
    try:
        # The driver holds the bucket lock of the suite's OUT for the whole suite (a task's run
        # is below it): a task, or its retry on another node, takes none of its own.
        with staged_out(task.remote.uri, task.remote.options, lock=False) as local:
            staged = dataclasses.replace(request, out=local)
            value = _run(dataclasses.replace(task, request=staged))
    except UsageError as exc:
        if exc.code not in STORAGE_CODES:
            raise
        return TaskReturn(outcome=None, storage_error={"code": exc.code, "message": str(exc)})
    # The outcome names this node's staging folder: the driver knows the run as its own.
    here = {str(local.absolute()), str(local.resolve())}
    for path in here:
        value = rebase(value, path, str(task.request.out))
    return value


def _run(task: RepoTask) -> TaskReturn:
    try:
        outcome = run_shadow(task.request, task.primary, task.candidate, task.options)
    except ShadowError as exc:
        return TaskReturn(outcome=None, strict_error=str(exc))
    except EngineFailure as exc:
        return TaskReturn(outcome=None, raised=exc.to_dict())
    error = outcome.primary_error
    if error is None:
        return TaskReturn(outcome=outcome)
    return TaskReturn(
        outcome=dataclasses.replace(outcome, primary_error=None), primary_error=error.to_dict()
    )


def rebase(value: Any, old: str, new: str) -> Any:
    """``value`` (an outcome, or any structure of msgspec structs, dataclasses, tuples, lists,
    dicts, strings and paths) with ``old`` replaced by ``new`` in every string and path; what
    does not change is returned as is."""
    if isinstance(value, str):
        return value.replace(old, new) if old in value else value
    if isinstance(value, Path):
        text = str(value)
        return Path(text.replace(old, new)) if old in text else value
    if isinstance(value, msgspec.Struct):
        changes = {}
        for name in value.__struct_fields__:
            item = getattr(value, name)
            moved = rebase(item, old, new)
            if moved is not item:
                changes[name] = moved
        return msgspec.structs.replace(value, **changes) if changes else value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        changes = {}
        for f in dataclasses.fields(value):
            item = getattr(value, f.name)
            moved = rebase(item, old, new)
            if f.init and moved is not item:
                changes[f.name] = moved
        return dataclasses.replace(value, **changes) if changes else value
    if isinstance(value, (tuple, list)):
        items = [rebase(item, old, new) for item in value]
        if all(a is b for a, b in zip(items, value, strict=True)):
            return value
        return type(value)(items) if type(value) in (tuple, list) else type(value)(*items)
    if isinstance(value, dict):
        moved_dict = {rebase(k, old, new): rebase(v, old, new) for k, v in value.items()}
        return moved_dict if moved_dict != value else value
    return value


def unpack(value: TaskReturn) -> ShadowOutcome:
    """The driver's side of :func:`run_task`: the outcome, with the primary's error rebuilt;
    a strict-mode failure raised again."""
    if value.strict_error is not None:
        raise ShadowError(value.strict_error)
    if value.raised is not None:
        raise _engine_failure(value.raised)
    assert value.outcome is not None
    if value.primary_error is None:
        return value.outcome
    failure = _engine_failure(value.primary_error)
    return dataclasses.replace(value.outcome, primary_error=failure)


def _engine_failure(e: dict[str, Any]) -> EngineFailure:
    return EngineFailure(e["backend"], e["code"], e["stage"], e["message"], e["context"])


def task_fault(task: RepoTask, reason: str, code: str = TASK_FAILED) -> ShadowOutcome:
    """The outcome of a repository whose task never finished (``code``: it died, or its
    bucket access failed): nothing was observed of either side (neither is ``ok``), nothing
    compared, and one harness fault; its Result is sev1 and blocks. It is never taken for the
    primary's error: the caller's exit is the gate's (1)."""
    fault = HarnessFault(where="executor", code=code, error=reason)
    dirs = side_dirs(task.primary, task.candidate)
    error = {"code": code, "message": reason}

    def side(backend: str, role: str, folder: str) -> Observation:
        return Observation(
            backend=backend,
            role=role,  # type: ignore[arg-type]
            ok=False,
            run_dir=str(task.request.out / folder),
            wall_s=0.0,
            cpu_s=0.0,
            error=error,
        )

    result = judge(
        subject=Path(task.request.repo).name,
        comparison=None,
        primary=None,
        candidate=None,
        policy=task.options.policy,
        faults=[f"executor: {reason}"],
    )
    return ShadowOutcome(
        primary=side(task.primary, "primary", dirs[0]),
        candidate=side(task.candidate, "candidate", dirs[1]),
        order=("primary", "candidate"),
        manifest=None,
        primary_error=None,
        comparison=None,
        faults=(fault,),
        extract_s=0.0,
        result=result,
    )


class ExecutorUnreachable(UsageError):
    """The Ray cluster could not be started or reached (exit 2, before any repository ran)."""


#: Seconds to wait for a TCP connection to ``--address`` before calling it unreachable.
PROBE_TIMEOUT_S = 5.0


def probe_address(address: str, timeout_s: float = PROBE_TIMEOUT_S) -> None:
    """ExecutorUnreachable unless something accepts a TCP connection at ``address``
    (``host:port`` or ``ray://host:port``): ``ray.init`` itself retries an address where
    nothing listens for minutes before it gives up. ``auto`` and any other form are left to
    Ray."""
    import socket

    hostport = address.removeprefix("ray://")
    host, sep, port_text = hostport.rpartition(":")
    if not sep or not host or not port_text.isdigit():
        return
    host = host.strip("[]")  # an IPv6 literal
    try:
        with socket.create_connection((host, int(port_text)), timeout=timeout_s):
            pass
    except OSError as exc:
        raise ExecutorUnreachable(
            "EXECUTOR_UNREACHABLE",
            f"cannot connect to the Ray cluster at {address}: nothing accepted a connection "
            f"within {timeout_s:g} s ({exc.strerror or exc}); start it with `ray start --head` "
            "and pass the address it prints",
        ) from exc


def import_ray() -> Any:
    """The ``ray`` module, or a UsageError (exit 2) saying how to install it."""
    # Under ``uv run`` Ray would by default start the workers with ``uv run`` too, in a copy
    # of the driver's working folder (which may be the analysed repository: its project would
    # be installed and built there). The workers run the nodes' own installation instead.
    os.environ[UV_RUN_HOOK] = "0"
    try:
        import ray
    except ImportError as exc:
        raise UsageError(
            "EXECUTOR_UNAVAILABLE",
            f"--executor ray needs Ray, which is not installed: {INSTALL_HINT}",
        ) from exc
    # Read when Ray is first imported; in a process that had imported it already, set here.
    from ray._private import ray_constants

    setattr(ray_constants, UV_RUN_HOOK, False)
    return ray


class RayExecutor:
    """Each repository as one Ray task; ``address`` is an existing cluster's (``ray start
    --head`` printed it; ``auto`` finds the one on this machine), None starts a local one for
    the suite's duration."""

    name = "ray"
    in_process = False

    def __init__(self, address: str | None = None) -> None:
        self.address = address
        self.ray = import_ray()

    @contextmanager
    def session(self) -> Iterator[None]:
        ray = self.ray
        # Workers' prints would reach the driver's stdout (and break --json): kept in the
        # cluster's logs instead.
        kwargs: dict[str, Any] = {"log_to_driver": False, "logging_level": logging.WARNING}
        if self.address is None:
            kwargs["include_dashboard"] = False
        # Ray prints the cluster's messages ("(raylet) A worker died ...") on sys.stdout, the
        # channel of the report (``--json``): for the session they go to stderr instead.
        if self.address is not None:
            probe_address(self.address)
        with redirect_stdout(sys.stderr):
            try:
                ray.init(address=self.address, **kwargs)
            except (ConnectionError, RuntimeError, ValueError) as exc:
                where = self.address or "(a new local one)"
                raise ExecutorUnreachable(
                    "EXECUTOR_UNREACHABLE", f"cannot connect to the Ray cluster at {where}: {exc}"
                ) from exc
            try:
                yield
            finally:
                ray.shutdown()

    def submit(self, tasks: Sequence[RepoTask]) -> list[Pending]:
        ray = self.ray
        remote = ray.remote(num_cpus=TASK_CPUS, max_retries=TASK_RETRIES)(run_task)
        # A worker's working folder is not the driver's: every path it gets is absolute.
        refs = [remote.remote(_absolute(t)) for t in tasks]
        return [functools.partial(self._await, t, ref) for t, ref in zip(tasks, refs, strict=True)]

    def _await(self, task: RepoTask, ref: Any) -> ShadowOutcome:
        exceptions = self.ray.exceptions
        try:
            value = self.ray.get(ref)
        except exceptions.RayTaskError as exc:
            # The task raised (not a death): as the local executor would have raised it.
            cause = getattr(exc, "cause", None)
            if isinstance(cause, BaseException):
                raise cause from None
            raise
        except exceptions.RayError as exc:
            # Its worker or node died on every attempt, or the object or the cluster was lost.
            detail = " ".join(str(exc).split())[:500]
            return task_fault(
                task,
                f"the Ray task of {task.name} did not finish in {TASK_RETRIES + 1} attempts: "
                f"{type(exc).__name__}: {detail}",
            )
        return received(task, value)


def received(task: RepoTask, value: TaskReturn) -> ShadowOutcome:
    """The driver's side of a task that returned: a task that published its run to the bucket
    has it pulled into the driver's staging folder of the run first (before a raised error
    too: the run is evidence); a task whose bucket access failed is a harness fault of its
    repository."""
    if value.storage_error is not None:
        code, message = value.storage_error["code"], value.storage_error["message"]
        return task_fault(
            task, f"the Ray task of {task.name} could not stage or publish its run: {message}", code
        )
    if task.remote is not None:
        from harness.storage import pull

        pull(task.remote.uri, task.request.out, task.remote.options)
    return unpack(value)


def _absolute(task: RepoTask) -> RepoTask:
    request = task.request
    cache = request.extract.cache_dir
    extract = dataclasses.replace(
        request.extract, cache_dir=None if cache is None else cache.absolute()
    )
    request = dataclasses.replace(
        request, repo=request.repo.absolute(), out=request.out.absolute(), extract=extract
    )
    return dataclasses.replace(task, request=request)


def make_executor(name: str, address: str | None) -> Executor:
    """The executor ``--executor NAME [--address ADDR]`` asks for; a UsageError (exit 2) for an
    unknown name, for ``--address`` without Ray, and for Ray not installed."""
    if name not in EXECUTORS:
        raise UsageError("UNKNOWN_EXECUTOR", f"--executor {name!r}: one of {', '.join(EXECUTORS)}")
    if name == "local":
        if address is not None:
            raise UsageError("OPTION_NOT_APPLICABLE", "--address applies to --executor ray only")
        return LocalExecutor()
    return RayExecutor(address)
