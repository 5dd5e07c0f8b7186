"""User mistakes are usage errors (exit 2), refused at the boundary before any work: missing or
wrong repositories, runs and evidence folders, object-store URIs as output folders, invalid
parity policies, gates over inputs that do not exist. Every check also has its valid case.

Each refusal test would fail on the code before issue 12: it exited 0 (a gate "passed" over a
path that does not exist, an extraction over no Python file), 1 (``compare`` of a folder that
is no run), or 4 (``plan --evidence missing/``, ``--out s3://...`` which also created a local
folder ``s3:``, ``golden fetch --json``).
"""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path
from typing import Any

import msgspec
import pytest
from typer.testing import CliRunner, Result

from harness.boundary import (
    EVIDENCE_MISSING,
    NOT_A_RUN,
    OUT_NOT_A_DIRECTORY,
    OUT_NOT_WRITABLE,
    REPO_HAS_NO_PYTHON,
    REPO_NAME_CLASH,
    REPO_NOT_A_DIRECTORY,
    REPO_NOT_FOUND,
    RUN_NOT_FOUND,
    UNSUPPORTED_URI,
    UsageError,
    evidence_dir,
    has_python,
    out_dir,
    repo_dir,
    repo_dirs,
    run_dir,
)
from harness.cli import app
from harness.compare.policy import POLICY_INVALID, PolicyError, load_policy
from harness.config.load import LoadedConfig, load_text
from harness.exit_codes import EXIT_GATE_FAILED, EXIT_OK, EXIT_USAGE
from harness.gates.cli import EVIDENCE_MARKER, check_inputs, evidence_folder
from harness.gates.evidence import latest
from harness.gates.gates import GATES
from harness.gates.history import append_history
from harness.gates.verdict import Check, make_verdict, read_verdict, write_verdict
from harness.release import checklist, write_checklist
from harness.report.model import ParityReport
from harness.status import status
from harness.storage import STORAGE_AUTH, STORAGE_SCHEME_UNSUPPORTED

runner = CliRunner()
PROJECT = Path(__file__).parents[2]


def _invoke(*args: str | Path) -> Result:
    return runner.invoke(app, [str(a) for a in args])


def _error(result: Result) -> dict[str, str]:
    """The ``--json`` error object on stdout (and the one line on stderr)."""
    assert result.exit_code == EXIT_USAGE, result.output
    assert result.stderr.startswith("error: "), result.stderr
    error: dict[str, str] = json.loads(result.stdout)["error"]
    assert set(error) == {"code", "message"}
    return error


def _repo(root: Path) -> Path:
    (root / "pkg").mkdir(parents=True)
    (root / "pkg" / "__init__.py").write_text("from .mod import f\n")
    (root / "pkg" / "mod.py").write_text("def f():\n    return 1\n")
    return root


def _config(tmp_path: Path, text: str = "") -> Path:
    file = tmp_path / "codeanatomy.toml"
    file.write_text(text)
    return file


def _loaded(tmp_path: Path, text: str = "") -> LoadedConfig:
    return load_text(text, file=_config(tmp_path, text), root=tmp_path, env={})


def _extract(repo: Path, out: Path | str, *more: str) -> Result:
    return _invoke("extract", repo, "--out", out, "--no-cache", "--only", "ast", *more)


def _no_scheme_folder(where: Path) -> None:
    """pathlib turns ``s3://b/p`` into ``s3:/b/p``: no such local folder may appear."""
    assert not [p.name for p in where.iterdir() if p.name.endswith(":")]


# --- repositories ---------------------------------------------------------------------------

REPO_COMMANDS: list[tuple[str, ...]] = [
    ("extract", "{repo}", "--out", "{out}"),
    ("build", "{repo}", "--out", "{out}"),
    ("shadow", "{repo}", "--out", "{out}"),
    *[("gate", g, "{repo}", "--out", "{out}") for g in (*GATES, "all")],
]


def _fill(command: tuple[str, ...], repo: Path, out: Path) -> list[str]:
    return [a.format(repo=repo, out=out) for a in command]


@pytest.mark.parametrize("command", REPO_COMMANDS, ids=lambda c: " ".join(c[:2]))
def test_a_missing_repository_is_a_usage_error(tmp_path: Path, command: tuple[str, ...]) -> None:
    result = _invoke(*_fill(command, tmp_path / "absent", tmp_path / "out"), "--json")
    error = _error(result)
    assert error["code"] == REPO_NOT_FOUND
    assert "absent" in error["message"]
    assert not (tmp_path / "out").exists()


def test_gate_parity_over_a_path_that_does_not_exist_does_not_pass() -> None:
    # The case of the issue: this exited 0, "parity pass over 1 repos".
    result = _invoke("gate", "parity", "/nonexistent/path", "--json")
    assert _error(result)["code"] == REPO_NOT_FOUND


@pytest.mark.parametrize("command", REPO_COMMANDS[:3], ids=lambda c: c[0])
def test_a_repository_without_python_is_a_usage_error(
    tmp_path: Path, command: tuple[str, ...]
) -> None:
    repo = tmp_path / "repo"
    (repo / ".hidden").mkdir(parents=True)
    (repo / ".hidden" / "a.py").write_text("x = 1\n")
    for skipped in ("node_modules", ".venv", "__pycache__"):
        (repo / "sub" / skipped).mkdir(parents=True)
        (repo / "sub" / skipped / "b.py").write_text("x = 1\n")
    (repo / "README.md").write_text("no code\n")
    result = _invoke(*_fill(command, repo, tmp_path / "out"), "--json")
    assert _error(result)["code"] == REPO_HAS_NO_PYTHON
    assert not (tmp_path / "out").exists()


def test_a_file_given_as_repository_is_a_usage_error(tmp_path: Path) -> None:
    file = tmp_path / "mod.py"
    file.write_text("x = 1\n")
    result = _extract(file, tmp_path / "out", "--json")
    assert _error(result)["code"] == REPO_NOT_A_DIRECTORY


def test_python_is_found_deep_in_the_tree_and_in_stubs(tmp_path: Path) -> None:
    deep = tmp_path / "a" / "b" / "c"
    deep.mkdir(parents=True)
    (deep / "types.pyi").write_text("x: int\n")
    assert repo_dir(tmp_path / "a") == (tmp_path / "a").resolve()


def test_symlinked_folders_are_not_followed(tmp_path: Path) -> None:
    code = _repo(tmp_path / "code")
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "link").symlink_to(code, target_is_directory=True)
    assert not has_python(repo)
    with pytest.raises(UsageError) as caught:
        repo_dir(repo)
    assert caught.value.code == REPO_HAS_NO_PYTHON


def test_the_walk_is_bounded(tmp_path: Path) -> None:
    for i in range(5):
        (tmp_path / f"d{i}").mkdir()
    assert not has_python(tmp_path)
    # Past the bound the boundary stops looking and lets extraction report what it finds.
    assert has_python(tmp_path, max_dirs=2)


def test_two_repositories_with_one_name_are_refused(tmp_path: Path) -> None:
    a = _repo(tmp_path / "a" / "pkg")
    b = _repo(tmp_path / "b" / "pkg")
    with pytest.raises(UsageError) as caught:
        repo_dirs([a, b])
    assert caught.value.code == REPO_NAME_CLASH
    assert repo_dirs([a, tmp_path / "b"]) == (a.resolve(), (tmp_path / "b").resolve())
    result = _invoke("shadow", a, a, "--out", tmp_path / "out", "--json")
    assert "given twice" in _error(result)["message"]


def test_relative_paths_work_from_any_working_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _repo(tmp_path / "repo")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    result = _extract(Path("../repo"), "../out", "--json")
    assert result.exit_code == EXIT_OK, result.output
    summary = json.loads(result.stdout)
    assert Path(summary["repo"]).is_absolute()
    assert summary["files"] == 2
    assert (tmp_path / "out" / "evidence" / "ast" / "_delta_log").is_dir()


# --- output folders -------------------------------------------------------------------------

# Where an object-store URI is not accepted (a cache folder, a release checklist's folder,
# the file:// scheme), or its scheme is not one codeanatomy tests (gs://, az://), or no
# credentials are at hand: each is refused before any work, with its own code.
URI_COMMANDS: list[tuple[str, tuple[str, ...]]] = [
    (STORAGE_AUTH, ("extract", "{repo}", "--out", "s3://bucket/prefix")),
    (UNSUPPORTED_URI, ("extract", "{repo}", "--out", "{out}", "--cache-dir", "s3://bucket/cache")),
    (STORAGE_AUTH, ("build", "{repo}", "--out", "s3://bucket/prefix")),
    (STORAGE_SCHEME_UNSUPPORTED, ("shadow", "{repo}", "--out", "gs://bucket/prefix")),
    (STORAGE_AUTH, ("golden", "extract", "--out", "s3://bucket/prefix")),
    (STORAGE_AUTH, ("golden", "shadow", "--out", "s3://bucket/prefix")),
    (STORAGE_SCHEME_UNSUPPORTED, ("gate", "deletion", "--out", "az://container/prefix")),
    (UNSUPPORTED_URI, ("release", "checklist", "--out", "file:///tmp/release")),
]


@pytest.mark.parametrize(
    ("code", "command"),
    URI_COMMANDS,
    ids=lambda c: c if isinstance(c, str) else " ".join(c[:2]) + " " + c[-1],
)
def test_an_unusable_object_store_uri_is_a_usage_error_and_creates_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, code: str, command: tuple[str, ...]
) -> None:
    repo = _repo(tmp_path / "repo")
    monkeypatch.chdir(tmp_path)
    _no_aws_credentials(monkeypatch, tmp_path)
    result = _invoke(*_fill(command, repo, tmp_path / "out"), "--json")
    error = _error(result)
    assert error["code"] == code, error
    assert ("s3://" in error["message"]) or ("://" in error["message"])
    _no_scheme_folder(tmp_path)
    assert not (tmp_path / "cache" / "remote").exists()


def _no_aws_credentials(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No AWS credentials anywhere (environment, profile, credentials file); the staging
    cache in the test's folder."""
    for key in list(os.environ):
        if key.startswith("AWS_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("CODEANATOMY_CACHE", str(tmp_path / "cache"))


def test_a_uri_as_configured_gate_folder_without_credentials_is_a_usage_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = _config(tmp_path, '[gates]\nout = "s3://bucket/gates"\n')
    monkeypatch.chdir(tmp_path)
    _no_aws_credentials(monkeypatch, tmp_path)
    result = _invoke("gate", "deletion", "--config", config, "--json")
    assert _error(result)["code"] == STORAGE_AUTH
    _no_scheme_folder(tmp_path)


@pytest.mark.parametrize("below", [False, True], ids=["file", "below-a-file"])
def test_a_file_given_as_output_folder_is_a_usage_error(tmp_path: Path, below: bool) -> None:
    repo = _repo(tmp_path / "repo")
    file = tmp_path / "taken"
    file.write_text("")
    result = _extract(repo, file / "run" if below else file, "--json")
    assert _error(result)["code"] == OUT_NOT_A_DIRECTORY


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs Linux /proc")
def test_an_output_folder_that_cannot_be_created_is_a_usage_error(tmp_path: Path) -> None:
    # It crashed in the middle of extraction (FileNotFoundError, exit 4); as root, permission
    # bits cannot show this, /proc can.
    repo = _repo(tmp_path / "repo")
    result = _extract(repo, "/proc/codeanatomy-out", "--json")
    assert _error(result)["code"] == OUT_NOT_WRITABLE
    assert out_dir(tmp_path / "new", create=True).is_dir()
    assert [p.name for p in (tmp_path / "new").iterdir()] == []  # the probe is gone


def test_out_dir_accepts_local_names_with_a_colon_and_creates_nothing(tmp_path: Path) -> None:
    assert out_dir(tmp_path / "run:1") == (tmp_path / "run:1").resolve()
    assert out_dir(str(tmp_path / "new" / "deeper")).is_absolute()
    assert not (tmp_path / "new").exists()
    with pytest.raises(UsageError):
        out_dir(Path("s3://b/p"))  # pathlib already made it "s3:/b/p"


# --- runs -----------------------------------------------------------------------------------


def _run(folder: Path) -> Path:
    """A minimal run directory: a valid ``run.json`` with no table."""
    manifest = {
        "manifest_version": 1,
        "backend": "legacy",
        "engine_version": "legacy-1",
        "versions": {"contract": "cpg/1"},
        "spec_hash": "h",
        "repo": {"path": "/repo", "files": 0, "python_files_ok": 0, "fingerprint": "r"},
        "inputs": [],
        "outputs": [],
        "warnings_by_code": {},
        "warnings": [],
        "timings": {"total_s": 1.0},
        "started_at": "2026-01-01T00:00:00Z",
        "finished_at": "2026-01-01T00:01:00Z",
    }
    folder.mkdir(parents=True)
    (folder / "run.json").write_bytes(msgspec.json.encode(manifest))
    return folder


def test_compare_of_folders_that_are_no_runs_is_a_usage_error(tmp_path: Path) -> None:
    # It used to compare fifteen missing tables and exit 1 with sev1 findings.
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    error = _error(_invoke("compare", tmp_path / "a", tmp_path / "b", "--json"))
    assert error["code"] == NOT_A_RUN
    assert "run.json" in error["message"]


@pytest.mark.parametrize(
    ("layout", "code"),
    [("absent", RUN_NOT_FOUND), ("file", NOT_A_RUN), ("corrupt", NOT_A_RUN)],
)
def test_compare_refuses_what_is_no_run(tmp_path: Path, layout: str, code: str) -> None:
    good = _run(tmp_path / "good")
    bad = tmp_path / "bad"
    if layout == "file":
        bad.write_text("")
    elif layout == "corrupt":
        bad.mkdir()
        (bad / "run.json").write_text("{not json")
    assert _error(_invoke("compare", good, bad, "--json"))["code"] == code


def test_a_shadow_run_is_not_a_run_and_the_message_names_its_sides(tmp_path: Path) -> None:
    _run(tmp_path / "shadow" / "legacy")
    _run(tmp_path / "shadow" / "rust")
    error = _error(_invoke("compare", tmp_path / "shadow", tmp_path / "shadow", "--json"))
    assert error["code"] == NOT_A_RUN
    assert "legacy" in error["message"] and "rust" in error["message"]
    assert run_dir(tmp_path / "shadow" / "rust") == (tmp_path / "shadow" / "rust").resolve()


def test_compare_of_two_runs_still_compares(tmp_path: Path) -> None:
    result = _invoke("compare", _run(tmp_path / "a"), _run(tmp_path / "b"), "--json")
    assert result.exit_code != EXIT_USAGE, result.output
    assert "first_divergent_stage" in json.loads(result.stdout)["result"]


# --- evidence -------------------------------------------------------------------------------


@pytest.mark.parametrize("where", ["absent", "empty"])
def test_plan_over_missing_evidence_is_a_usage_error(tmp_path: Path, where: str) -> None:
    # It used to end as an internal error (TableNotFoundError), exit 4.
    evidence = tmp_path / "evidence"
    if where == "empty":
        evidence.mkdir()
    result = _invoke("plan", "--backend", "legacy", "--evidence", evidence, "--json")
    assert _error(result)["code"] == EVIDENCE_MISSING


def test_plan_over_real_evidence_works_and_a_run_folder_gets_a_hint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = _repo(tmp_path / "repo")
    assert _extract(repo, tmp_path / "run").exit_code == EXIT_OK
    assert evidence_dir(tmp_path / "run" / "evidence").is_absolute()
    monkeypatch.chdir(tmp_path / "repo")
    result = _invoke(
        "plan", "--backend", "legacy", "--tier", "1", "--evidence", "../run/evidence", "--json"
    )
    assert result.exit_code == EXIT_OK, result.output
    assert json.loads(result.stdout)["tier"] == 1
    error = _error(_invoke("plan", "--backend", "legacy", "--evidence", "../run", "--json"))
    assert error["code"] == EVIDENCE_MISSING
    assert str(tmp_path / "run" / "evidence") in error["message"]


def test_plan_with_both_a_spec_and_evidence_is_a_usage_error(tmp_path: Path) -> None:
    spec = tmp_path / "spec.json"
    spec.write_text("{}")
    result = _invoke("plan", "--spec", spec, "--evidence", tmp_path, "--json")
    assert _error(result)["message"] == "give --spec or --evidence, not both"


# --- parity policy --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[tables.cpg_edgez.columns.confidence]\nabs_tol = 0.1\n", "did you mean 'cpg_edges'"),
        ("[tables.cpg_edges.columns.confidenze]\nabs_tol = 0.1\n", "did you mean 'confidence'"),
        (
            '[[allow]]\ntable = "diagnostic"\nreason = "r"\nowner = "o"\nexpires = 2099-01-01\n',
            "did you mean 'diagnostics'",
        ),
        (
            '[[allow]]\ntable = "diagnostics"\nstage = "output"\nreason = "r"\nowner = "o"\n'
            "expires = 2099-01-01\n",
            "did you mean 'outputs'",
        ),
    ],
    ids=["table", "column", "allow-table", "allow-stage"],
)
def test_unknown_policy_names_are_policy_errors_with_a_suggestion(
    tmp_path: Path, text: str, expected: str
) -> None:
    policy = tmp_path / "parity.toml"
    policy.write_text("version = 1\n" + text)
    with pytest.raises(PolicyError, match=expected) as caught:
        load_policy(policy)
    assert isinstance(caught.value, UsageError)
    assert caught.value.code == POLICY_INVALID


def test_known_tables_views_and_columns_are_accepted(tmp_path: Path) -> None:
    policy = tmp_path / "parity.toml"
    policy.write_text(
        "version = 1\n"
        "[tables.cpg_edges.columns.confidence]\nabs_tol = 1e-9\n"
        "[tables.ast.columns.path]\nnormalize = ['posix_path']\n"
        "[tables.file_nodes]\nrow_count_tolerance = 0.1\n"
        '[[allow]]\ntable = "syntax"\nstage = "views"\nreason = "r"\nowner = "o"\n'
        "expires = 2099-01-01\n"
    )
    rules = load_policy(policy).rules()
    assert rules["cpg_edges"].diff.columns["confidence"].abs_tol == 1e-9


def test_shadow_with_an_invalid_policy_is_a_usage_error(tmp_path: Path) -> None:
    repo = _repo(tmp_path / "repo")
    policy = tmp_path / "parity.toml"
    policy.write_text("[tables.cpg_edgez]\nrow_count_tolerance = 0.1\n")
    result = _invoke("shadow", repo, "--out", tmp_path / "out", "--policy", policy, "--json")
    error = _error(result)
    assert error["code"] == POLICY_INVALID
    assert "cpg_edges" in error["message"]
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    "text",
    ["[tables.cpg_nodes.columns.name]\nnormalize = ['upper']\n", "[tables.cpg_edgez]\n"],
    ids=["normalizer", "table"],
)
def test_the_parity_gate_refuses_an_invalid_configured_policy(tmp_path: Path, text: str) -> None:
    # An invalid normalizer used to escape the gate as an internal error (exit 4).
    (tmp_path / "parity.toml").write_text(text)
    config = _config(tmp_path, '[parity]\npolicy = "parity.toml"\n')
    result = _invoke("gate", "parity", "--config", config, "--out", tmp_path / "g", "--json")
    assert _error(result)["code"] == POLICY_INVALID
    assert not (tmp_path / "g").exists()


# --- gates ----------------------------------------------------------------------------------


def _report(verdict: str) -> ParityReport:
    return ParityReport(
        report_version="parity/1",
        generated_at=dt.datetime.now(dt.UTC).isoformat(timespec="microseconds"),
        versions={},
        verdict=verdict,  # type: ignore[arg-type]
        thresholds={},
        counts={},
        repos=(),
    )


def test_cutover_without_a_parity_history_is_a_usage_error(tmp_path: Path) -> None:
    # It used to write a failing verdict (exit 1) as if a parity run had failed.
    config = _config(tmp_path, '[parity]\nhistory = "history"\ncutover_runs = 1\n')
    result = _invoke("gate", "cutover", "--config", config, "--out", tmp_path / "g", "--json")
    error = _error(result)
    assert "no parity history" in error["message"]
    assert not (tmp_path / "g" / "cutover.json").exists()


def test_cutover_over_an_unreadable_history_is_a_usage_error(tmp_path: Path) -> None:
    # A history folder with an empty Delta log used to crash the gate (exit 4).
    config = _config(tmp_path, '[parity]\nhistory = "history"\n')
    (tmp_path / "history" / "_delta_log").mkdir(parents=True)
    result = _invoke("gate", "cutover", "--config", config, "--out", tmp_path / "g", "--json")
    assert "unreadable parity history" in _error(result)["message"]


def test_cutover_over_a_history_writes_a_verdict_with_relative_links(tmp_path: Path) -> None:
    config = _config(tmp_path, '[parity]\nhistory = "history"\ncutover_runs = 1\n')
    append_history(tmp_path / "history", _report("pass"))
    result = _invoke("gate", "cutover", "--config", config, "--out", tmp_path / "g", "--json")
    # Whether this one run counts is the gate's business; that it ran and kept its evidence
    # link resolvable from the verdict file is the boundary's.
    assert result.exit_code in (EXIT_OK, EXIT_GATE_FAILED), result.output
    stored = read_verdict(tmp_path / "g" / "cutover.json")
    assert stored.evidence == {"history": "../history"}
    assert "(../history)" in (tmp_path / "g" / "cutover.md").read_text()
    link = latest(tmp_path / "g", "cutover").links()["history"]
    assert link.resolve() == (tmp_path / "history").resolve()
    assert (tmp_path / "g" / "cutover" / EVIDENCE_MARKER).is_file()


def test_an_unknown_gate_is_a_usage_error_in_json(tmp_path: Path) -> None:
    result = _invoke("gate", "parityy", "--out", tmp_path / "g", "--json")
    assert _error(result)["code"] == "UNKNOWN_GATE"


def test_gate_evidence_persists_and_only_our_folders_are_cleared(tmp_path: Path) -> None:
    folder = evidence_folder(tmp_path, "parity")
    (folder / "run.json").write_text("{}")
    again = evidence_folder(tmp_path, "parity")
    assert again == folder and not (folder / "run.json").exists()
    foreign = tmp_path / "determinism"
    foreign.mkdir()
    (foreign / "keep.txt").write_text("mine")
    with pytest.raises(UsageError):
        evidence_folder(tmp_path, "determinism")
    assert (foreign / "keep.txt").read_text() == "mine"


def _bench(project: Path, name: str, data: object) -> None:
    (project / "reports").mkdir(exist_ok=True)
    (project / "reports" / name).write_text(
        data if isinstance(data, str) else json.dumps(data), encoding="utf-8"
    )


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("bench_semantic.json", "{truncated"),
        ("bench_extract.json", []),
        ("bench_extract.json", {"corpora": {"stdlib": {"ratios": {}}}}),
    ],
    ids=["corrupt", "not-an-object", "no-ratio"],
)
def test_perf_refuses_benchmark_reports_it_cannot_judge(
    tmp_path: Path, name: str, data: object
) -> None:
    _bench(tmp_path, name, data)
    with pytest.raises(UsageError):
        check_inputs("perf", _loaded(tmp_path), tmp_path)


def test_perf_inputs_that_can_be_judged_are_accepted(tmp_path: Path) -> None:
    config = _loaded(tmp_path)
    check_inputs("perf", config, tmp_path)  # absent: the gate fails its checks (exit 1)
    _bench(tmp_path, "bench_semantic.json", {"semantic_speedup": 11.0})
    _bench(tmp_path, "bench_extract.json", {"corpora": {"c": {"ratios": {"warm_over_cold": 0.2}}}})
    check_inputs("perf", config, tmp_path)


def test_perf_reads_the_reports_beside_the_configured_bench_json(tmp_path: Path) -> None:
    from harness.gates.gates import GateContext, gate_perf

    config = _loaded(tmp_path, '[gates]\nbench_json = "ci/bench/bench.json"\n')
    elsewhere = tmp_path / "ci" / "bench"
    elsewhere.mkdir(parents=True)
    (elsewhere / "bench_semantic.json").write_text('{"semantic_speedup": 12.0}')
    (elsewhere / "bench_extract.json").write_text(
        '{"corpora": {"c": {"ratios": {"warm_over_cold": 0.05}}}}'
    )
    _bench(tmp_path, "bench_semantic.json", "{truncated")  # the default place: not read
    check_inputs("perf", config, tmp_path)
    ctx = GateContext(config=config, repos=(), work=tmp_path / "w", project=tmp_path)
    verdict = gate_perf(ctx)
    assert verdict.passed, verdict


# --- evidence links in verdicts, checklist and status ---------------------------------------


def _passing(folder: Path, gate: str, evidence: dict[str, str]) -> None:
    write_verdict(folder, make_verdict(gate, [Check(name="x", passed=True)], "ok", evidence))


def test_verdict_links_are_relative_to_the_verdict_file(tmp_path: Path) -> None:
    folder = tmp_path / "reports" / "gates"
    report = folder / "parity" / "parity" / "report" / "parity.md"
    report.parent.mkdir(parents=True)
    report.write_text("# parity\n")
    _passing(folder, "parity", {"markdown": str(report)})
    assert read_verdict(folder / "parity.json").evidence == {
        "markdown": "parity/parity/report/parity.md"
    }
    assert "(parity/parity/report/parity.md)" in (folder / "parity.md").read_text()
    ev = latest(folder, "parity")
    assert ev.links()["markdown"] == report
    assert ev.evidence_problem() is None


def test_a_pass_whose_evidence_is_gone_counts_for_nothing(tmp_path: Path) -> None:
    config = _loaded(tmp_path)
    folder = tmp_path / "reports" / "gates"
    for gate in GATES:
        _passing(folder, gate, {})
    _passing(folder, "parity", {"markdown": "/tmp/codeanatomy-gate-gone/parity.md"})
    item = next(i for i in checklist(config).items if i.gate == "parity")
    assert not item.passed and "evidence missing" in item.reason
    state = next(g for g in status(config, PROJECT).gates if g.gate == "parity")
    assert state.passed is False and "evidence missing" in state.evidence


def test_the_written_checklist_links_relative_to_itself(tmp_path: Path) -> None:
    config = _loaded(tmp_path)
    _passing(tmp_path / "reports" / "gates", "deletion", {})
    out = tmp_path / "reports" / "release"
    js, md = write_checklist(out, checklist(config))
    items = {i["gate"]: i for i in json.loads(js.read_text())["items"]}
    assert items["deletion"]["evidence"] == "../gates/deletion.json"
    assert (out / items["deletion"]["evidence"]).is_file()
    assert "(../gates/deletion.json)" in md.read_text()


# --- golden fetch ---------------------------------------------------------------------------


def test_golden_fetch_json_encodes_paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # It crashed: msgspec cannot encode a PosixPath.
    from harness.golden import fetch

    def fake_fetch(manifest: Any, cache_dir: Path, **_: Any) -> list[fetch.FetchedSdist]:
        root = cache_dir / "demo-1.0"
        return [
            fetch.FetchedSdist(
                name="demo",
                version="1.0",
                archive=cache_dir / "downloads" / "demo-1.0.tar.gz",
                source_root=root,
                sha256="0" * 64,
                downloaded=False,
            )
        ]

    monkeypatch.setattr(fetch, "fetch_sdists", fake_fetch)
    result = _invoke("golden", "fetch", "--cache-dir", tmp_path / "cache", "--json")
    assert result.exit_code == EXIT_OK, result.output
    [item] = json.loads(result.stdout)
    assert item["source_root"] == os.fspath((tmp_path / "cache" / "demo-1.0").resolve())
    file = tmp_path / "file"
    file.write_text("")
    error = _error(_invoke("golden", "fetch", "--cache-dir", file, "--json"))
    assert error["code"] == OUT_NOT_A_DIRECTORY


# --- build ----------------------------------------------------------------------------------


def test_build_rejects_an_unknown_backend_in_json(tmp_path: Path) -> None:
    repo = _repo(tmp_path / "repo")
    result = _invoke("build", repo, "--out", tmp_path / "out", "--backend", "nope", "--json")
    assert "legacy, rust or shadow" in _error(result)["message"]


def test_a_usage_error_without_json_is_one_line_on_stderr(tmp_path: Path) -> None:
    result = _extract(tmp_path / "absent", tmp_path / "out")
    assert result.exit_code == EXIT_USAGE
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith("error: repository ")
