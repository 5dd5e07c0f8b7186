"""The pytest plugin: shadow-run both backends inside a test and assert on the parity Result.

Installed with codeanatomy (entry point ``pytest11``), so that a test of any project can write::

    def test_the_engines_agree_on_our_code(parity):
        result = parity.check("src")          # fails the test unless the Result passes
        assert result.coverage.tables_compared > 0

``parity.run(path)`` shadow-runs the configured primary (``legacy``) and candidate (``rust``)
on ``path`` (relative to pytest's rootdir) exactly as ``codeanatomy shadow`` does: Stage 0
once, the primary in this process, the candidate in a contained child with a time limit, the
stage-by-stage comparison, and the one :class:`~harness.compare.result.Result` that judges it,
which ``run`` returns. ``parity.check(path)`` also fails the test when the Result blocks (an
unallowed sev1/sev2 finding: a difference, a failed side or evidence source, nothing compared).
A path that is not a folder holding Python files fails the test: a run over nothing is not a
pass. Keyword options (``primary``, ``candidate``, ``policy``, ``timeout_s``, ``isolated``,
``seed``) may also be set for a whole test with ``@pytest.mark.parity(...)``; every test that
uses the fixture carries the ``parity`` marker, so ``-m "not parity"`` leaves them out.

Command-line options: ``--parity-report DIR`` writes the four report formats (``parity.json``
with its schema, ``parity.md``, ``junit.xml``, ``parity.html``) over every parity run of the
session; ``--parity-policy FILE`` is the parity policy (default: ``[parity] policy`` of the
configuration found from the rootdir). Runs go to pytest's temporary folders.

Nothing heavy is imported until a test uses the fixture: the plugin loads in every pytest
session of an environment where codeanatomy is installed.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, TypedDict, cast

import pytest

if TYPE_CHECKING:
    from typing import Unpack

    from harness.compare.policy import ParityPolicy
    from harness.compare.result import Result
    from harness.config.load import LoadedConfig
    from harness.report.assemble import RepoRun
    from harness.report.model import ParityReport
    from harness.shadow.runner import ShadowOutcome

MARKER: Final = "parity"
FIXTURE: Final = "parity"


class ParityOptions(TypedDict, total=False):
    """Options of one parity run (``parity.run``, ``parity.check``, ``@pytest.mark.parity``)."""

    # The backend that serves (default: [engine] primary, legacy).
    primary: str
    # The backend compared with it (default: [engine] candidate, rust).
    candidate: str
    # A parity policy, or its TOML file relative to the rootdir (default: --parity-policy,
    # else [parity] policy of the configuration).
    policy: ParityPolicy | str | os.PathLike[str]
    # The candidate's time limit in seconds (default: [engine] candidate_timeout_s).
    timeout_s: float
    # Each backend extracts on its own (the evidence is compared too).
    isolated: bool
    # Seed of the random order in which the two sides run.
    seed: int


_OPTION_NAMES: Final = frozenset(ParityOptions.__annotations__)


@dataclass
class _Session:
    """What the plugin keeps for one pytest session: its settings and every run's outcome."""

    rootpath: Path
    report_dir: Path | None
    policy_file: Path | None
    runs: list[RepoRun] = field(default_factory=list)
    summary: str | None = None
    """What became of the report, for the end of the session's output."""
    _config: LoadedConfig | None = None
    _policy: ParityPolicy | None = None

    @property
    def config(self) -> LoadedConfig:
        if self._config is None:
            from harness.config.load import load_config

            self._config = load_config(start=self.rootpath)
        return self._config

    @property
    def policy(self) -> ParityPolicy:
        if self._policy is None:
            from harness.compare.policy import configured_policy, load_policy

            self._policy = (
                load_policy(self.policy_file)
                if self.policy_file is not None
                else configured_policy(self.config)
            )
        return self._policy

    def name_for(self, repo: Path) -> str:
        """The repository's name in the report, made unique within the session."""
        taken = {r.name for r in self.runs}
        name, n = repo.name, 1
        while name in taken:
            n += 1
            name = f"{repo.name}-{n}"
        return name

    def report(self) -> ParityReport:
        from harness.compare.policy import configured_thresholds
        from harness.report.assemble import assemble

        return assemble(self.runs, self.policy, configured_thresholds(self.config))


_SESSION: Final = pytest.StashKey[_Session]()


class Parity:
    """What the ``parity`` fixture gives a test: shadow runs of two backends, each judged by
    one parity :class:`~harness.compare.result.Result`."""

    def __init__(
        self,
        session: _Session,
        tmp: pytest.TempPathFactory,
        defaults: ParityOptions | None = None,
    ) -> None:
        self._session = session
        self._tmp = tmp
        self._defaults: ParityOptions = defaults or {}
        self.outcomes: list[ShadowOutcome] = []
        """Everything observed by this test's runs (observations, comparison, Result)."""

    def run(self, repo: str | os.PathLike[str], **options: Unpack[ParityOptions]) -> Result:
        """Shadow-run both backends on ``repo`` and return the Result (never raises for what
        the backends do: a failed side is a finding). Fails the test for a ``repo`` that is
        not a folder holding Python files, an invalid policy or an unavailable backend."""
        from harness.boundary import repo_dir
        from harness.config.model import ConfigError
        from harness.errors import BackendUnavailable, UsageError

        chosen: ParityOptions = {**self._defaults, **options}
        try:
            root = repo_dir(self._session.rootpath / Path(repo))
            outcome = self._shadow(root, chosen)
        except (UsageError, ConfigError) as exc:
            problem = f"{getattr(exc, 'code', type(exc).__name__)}: {exc}"
        except BackendUnavailable as exc:
            problem = f"backend {exc.backend} unavailable: {exc.reason}"
        else:
            self.outcomes.append(outcome)
            return outcome.result
        # Outside the handler: the failure reads as one line, not as a chain of exceptions.
        pytest.fail(f"parity: {problem}", pytrace=False)

    def check(self, repo: str | os.PathLike[str], **options: Unpack[ParityOptions]) -> Result:
        """:meth:`run`, then fail the test unless the Result passes (nothing blocks)."""
        result = self.run(repo, **options)
        if result.blocks:
            pytest.fail(describe(result, self.outcomes[-1].primary.run_dir), pytrace=False)
        return result

    def _shadow(self, root: Path, options: ParityOptions) -> ShadowOutcome:
        from harness.compare.policy import ParityPolicy, load_policy
        from harness.errors import UsageError
        from harness.report.assemble import RepoRun
        from harness.run.extract_options import extract_options
        from harness.run.request import BuildRequest, check_candidate_timeout
        from harness.shadow.runner import ShadowOptions, run_shadow

        session = self._session
        engine = session.config.config.engine
        policy = options.get("policy")
        if policy is None:
            policy = session.policy
        elif not isinstance(policy, ParityPolicy):
            policy = load_policy(session.rootpath / Path(policy))
        timeout = options.get("timeout_s", engine.candidate_timeout_s)
        try:
            timeout = check_candidate_timeout(timeout)
        except ValueError as exc:
            raise UsageError("USAGE", f"timeout_s {exc}") from exc
        shadow = ShadowOptions(
            isolated=options.get("isolated", False),
            seed=options.get("seed"),
            candidate_timeout_s=timeout,
            rules=policy.rules(),
            policy=policy,
        )
        name = session.name_for(root)
        request = BuildRequest(
            repo=root,
            out=self._tmp.mktemp(f"parity-{name}"),
            extract=extract_options(session.config),
            views=True,
        )
        primary = options.get("primary", engine.primary)
        candidate = options.get("candidate", engine.candidate)
        outcome = run_shadow(request, primary, candidate, shadow)
        session.runs.append(RepoRun(name=name, repo=str(root), outcome=outcome))
        return outcome


def describe(result: Result, where: str = "") -> str:
    """A failed parity check in a few lines: the verdict, the blocking findings, coverage."""
    blocking = [f for f in result.findings if f.blocks]
    cov = result.coverage
    lines = [
        f"parity of {result.subject} blocks ({result.severity}; first divergent stage "
        f"{result.first_divergent_stage or '-'}): {len(blocking)} blocking finding(s)"
    ]
    lines += [f"  {f.severity} {f.code} {f.stage}/{f.table}: {f.message}" for f in blocking[:20]]
    if len(blocking) > 20:
        lines.append(f"  ... and {len(blocking) - 20} more")
    failed = ", ".join(f"{s.source} {s.health} ({s.side})" for s in cov.failed_sources())
    lines.append(
        f"coverage: {cov.tables_compared} tables compared, rows {cov.primary_rows} primary / "
        f"{cov.candidate_rows} candidate; evidence sources failed: {failed or 'none'}"
    )
    if where:
        lines.append(f"runs: {Path(where).parent}")
    return "\n".join(lines)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("codeanatomy parity")
    group.addoption(
        "--parity-report",
        metavar="DIR",
        help="Write the parity reports (JSON, Markdown, JUnit, HTML) of the session's parity "
        "runs into DIR.",
    )
    group.addoption(
        "--parity-policy",
        metavar="FILE",
        help="The parity policy TOML (default: [parity] policy of the codeanatomy config).",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{MARKER}(**options): a test that shadow-runs codeanatomy's backends (set on every "
        f"test using the {FIXTURE} fixture); options: {', '.join(sorted(_OPTION_NAMES))}",
    )
    invoked = config.invocation_params.dir
    report = config.getoption("--parity-report")
    policy = config.getoption("--parity-policy")
    if report is not None:
        from harness.boundary import out_dir
        from harness.errors import UsageError

        try:
            report = out_dir(invoked / report, "--parity-report")
        except UsageError as exc:
            raise pytest.UsageError(f"--parity-report: {exc.message}") from exc
    if policy is not None:
        policy = invoked / policy
        if not policy.is_file():
            raise pytest.UsageError(f"--parity-policy {policy}: no such file")
    config.stash[_SESSION] = _Session(
        rootpath=config.rootpath, report_dir=report, policy_file=policy
    )


@pytest.hookimpl(tryfirst=True)  # before -m selects by marker
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if FIXTURE in getattr(item, "fixturenames", ()) and item.get_closest_marker(MARKER) is None:
            item.add_marker(MARKER)


@pytest.fixture
def parity(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Parity:
    """Shadow-run codeanatomy's two backends on a path and judge them (see
    :class:`harness.pytest_plugin.Parity`)."""
    marker = request.node.get_closest_marker(MARKER)
    defaults: dict[str, Any] = dict(marker.kwargs) if marker is not None else {}
    unknown = sorted(set(defaults) - _OPTION_NAMES)
    if unknown:
        pytest.fail(
            f"@pytest.mark.{MARKER}: unknown option(s) {unknown}; known: {sorted(_OPTION_NAMES)}",
            pytrace=False,
        )
    return Parity(request.config.stash[_SESSION], tmp_path_factory, cast(ParityOptions, defaults))


def pytest_sessionfinish(session: pytest.Session) -> None:
    state = session.config.stash.get(_SESSION, None)
    if state is None or state.report_dir is None:
        return
    from harness.config.model import ConfigError
    from harness.errors import UsageError
    from harness.report.writers import write_reports

    try:
        # Written even when no parity test ran: a report over no repository says so and fails.
        report = state.report()
        write_reports(report, state.report_dir)
    except (UsageError, ConfigError, OSError) as exc:
        state.summary = f"parity report not written: {exc}"
        return
    state.summary = (
        f"parity {report.verdict} over {len(state.runs)} run(s); reports in {state.report_dir}"
    )


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    state = terminalreporter.config.stash.get(_SESSION, None)
    if state is None or state.summary is None:
        return
    terminalreporter.write_sep("-", "codeanatomy parity")
    terminalreporter.write_line(state.summary)
