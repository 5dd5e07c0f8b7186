"""Shadow runs over several repositories, one report, one more run in the parity history: the
parity gate's engine (``codeanatomy gate parity``), which ``codeanatomy shadow`` and
``codeanatomy golden shadow`` run too.

It sits above shadow mode (one repository) and the reports, beside the gates that read the
history it appends to.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

from rich.console import Console

from backends.extract.cache import default_cache_dir
from harness.compare.policy import ParityPolicy, configured_thresholds
from harness.config.load import LoadedConfig
from harness.gates.executor import Executor, LocalExecutor, RemoteRun, RepoTask
from harness.gates.history import append_history
from harness.maintain import maintain_history
from harness.report.assemble import RepoRun, assemble
from harness.report.history import read_history
from harness.report.model import ParityReport
from harness.report.writers import write_reports
from harness.route import decide_route
from harness.run.extract_options import extract_options
from harness.run.request import BuildRequest
from harness.shadow.runner import ShadowOptions
from harness.staging import remote_of
from harness.storage import is_uri


def run_suite(
    repos: list[Path],
    out: Path,
    config: LoadedConfig,
    policy: ParityPolicy,
    options: ShadowOptions,
    *,
    quiet: bool = False,
    progress: Callable[[str, int, int], None] | None = None,
    executor: Executor | None = None,
) -> tuple[ParityReport, dict[str, Path]]:
    """Shadow-run every repo (primary/candidate from the config) and write ``out/report``.

    ``progress(stage, done, total)`` hears of the repos done and of each repo's extraction
    (the latter in this process only). ``executor`` runs the repos (default: here, one after
    another; :mod:`harness.gates.executor`); the report is assembled here either way. When
    ``out`` is the staging folder of an object-store OUT (:func:`harness.staging.remote_of`)
    and the tasks run elsewhere, each task publishes its run to ``<OUT URI>/<name>`` itself."""
    # The Result of every repo applies this policy (allow-list), whatever the options said.
    options = dataclasses.replace(options, policy=policy)
    route = decide_route(config, "shadow")
    primary = route.primary if route.mode == "shadow" else config.config.engine.primary
    candidate = route.candidate or config.config.engine.candidate
    executor = executor or LocalExecutor()
    console = Console(stderr=True)
    runs = []
    single = len(repos) == 1
    tasks = []
    # An object-store OUT staged here: a task on another node cannot write into this machine's
    # staging folder, so it publishes its run to the bucket itself (harness.gates.executor).
    published = None if executor.in_process else remote_of(out)
    for repo in repos:
        name = repo.resolve().name
        # A task elsewhere cannot call back into this process: no extraction progress there.
        extract = extract_options(config, progress=progress if executor.in_process else None)
        request = BuildRequest(
            repo=repo, out=out if single else out / name, extract=extract, views=True
        )
        remote = None
        if published is not None:
            uri, storage = published
            own = extract.cache_dir is not None and extract.cache_dir == default_cache_dir()
            remote = RemoteRun(uri if single else f"{uri}/{name}", storage, node_cache=own)
        tasks.append(RepoTask(name, request, primary, candidate, options, remote))
    with executor.session():
        pending = executor.submit(tasks)
        for i, (task, outcome_of) in enumerate(zip(tasks, pending, strict=True)):
            if not quiet:
                console.print(
                    f"== shadow {task.name}: {primary} (primary) vs {candidate}", markup=False
                )
            if progress and not single:
                progress("repositories", i, len(repos))
            outcome = outcome_of()
            if outcome.primary_error is not None:
                raise outcome.primary_error
            runs.append(RepoRun(name=task.name, repo=str(task.request.repo), outcome=outcome))
    if progress and not single:
        progress("repositories", len(repos), len(repos))
    report = assemble(runs, policy, configured_thresholds(config))
    history = config.location(config.config.parity.history)
    store = config.storage_options if is_uri(history) else None
    # The report draws the recorded runs and this one, which is recorded after it.
    paths = write_reports(
        report, out / "report", history=read_history(history, storage_options=store)
    )
    append_history(history, report, store)
    # Appends accumulate small files: compacted (and vacuumed) once past [maintenance], on
    # local disk or in the bucket.
    maintain_history(history, config.config.maintenance, store)
    return report, paths
