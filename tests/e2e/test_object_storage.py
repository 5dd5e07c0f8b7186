"""Runs, reports and the parity history in a bucket (issue 16, parts 1 and 2), against a real
S3 server on localhost (SeaweedFS, the ``s3_server`` fixture of tests/conftest.py).

Each test runs the ``codeanatomy`` command as a user would (a subprocess, from another working
folder, on a copy of a golden repository outside ``golden_repos/``), with credentials only in
the standard ``AWS_*`` environment variables or in ``[storage]`` of a configuration file, and
then reads what landed in the bucket.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from deltalake import DeltaTable

from backends.extract.scip.install import find_binary
from harness.run.manifest import RunManifest, read_manifest
from harness.storage import list_files, pull

ROOT = Path(__file__).parents[2]
CLI = Path(sys.executable).parent / "codeanatomy"
GOLDEN = ROOT / "golden_repos" / "callgraph"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        find_binary() is None or shutil.which("node") is None,
        reason="scip-python not installed (needs node on PATH): without scip no side is complete",
    ),
]


@pytest.fixture
def user(tmp_path: Path) -> Iterator[Path]:
    """A user's working folder holding a copy of a golden repository (``repo``)."""
    home = tmp_path / "work"
    home.mkdir()
    shutil.copytree(GOLDEN, home / "repo")
    yield home


def _env(s3: Any, tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(s3.env())
    env["CODEANATOMY_CACHE"] = str(tmp_path / "cache")
    env["AWS_SHARED_CREDENTIALS_FILE"] = str(tmp_path / "no-credentials-file")
    env.update(extra)
    return env


def _cli(
    *args: str, cwd: Path, env: dict[str, str], timeout: float = 900
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(CLI), *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=timeout,
        check=False,
    )


def _fingerprints(manifest: RunManifest) -> dict[str, tuple[int, str]]:
    return {
        f"{section}/{t.table}": (t.rows, t.fingerprint)
        for section, entries in (("inputs", manifest.inputs), ("outputs", manifest.outputs))
        for t in entries
    }


def _download(s3: Any, uri: str, where: Path) -> Path:
    where.mkdir(parents=True)
    pull(uri, where, s3.storage_options())
    return where


def test_a_build_into_a_bucket_equals_the_build_on_local_disk(
    s3_server: Any, user: Path, tmp_path: Path
) -> None:
    env = _env(s3_server, tmp_path)
    uri = s3_server.uri(s3_server.new_prefix("build") + "/run")
    remote = _cli("build", "repo", "--out", uri, "--backend", "rust", "--json", cwd=user, env=env)
    assert remote.returncode == 0, remote.stderr
    local = _cli("build", "repo", "--out", "local-run", "--backend", "rust", cwd=user, env=env)
    assert local.returncode == 0, local.stderr

    keys = list_files(uri, s3_server.storage_options())
    assert "run.json" in keys
    assert any(k.startswith("outputs/") and k.endswith(".parquet") for k in keys)
    assert not any(".codeanatomy-lock" in k or k.startswith("work/") for k in keys)
    assert sum(keys.values()) < 20 * 1024 * 1024  # the run's files, no linked binary
    # The manifest in the bucket names its tables relative to the run and by the bucket's URI.
    status, body = s3_server.request("GET", "/" + uri.removeprefix("s3://") + "/run.json")
    assert status == 200
    raw = json.loads(body)
    assert all(t["uri"].startswith(uri + "/") for t in raw["outputs"]), raw["outputs"][0]
    assert str(tmp_path / "cache") not in body.decode()  # no trace of the staging folder
    text = _download(s3_server, uri, tmp_path / "dl") / "run.json"
    assert all(not t["path"].startswith("/") for t in raw["outputs"])
    in_bucket = read_manifest(text)
    on_disk = read_manifest(user / "local-run" / "run.json")
    assert in_bucket.outputs and in_bucket.inputs  # the comparison is over real tables
    assert _fingerprints(in_bucket) == _fingerprints(on_disk)
    # Every table in the bucket reads at the version the manifest pins, with its rows.
    options = s3_server.storage_options()
    for t in in_bucket.outputs:
        table = DeltaTable(t.uri, version=t.delta_version, storage_options=options)
        assert table.to_pyarrow_table().num_rows == t.rows, t.table

    # A second build into the bucket starts from its state: nothing changed, nothing merged.
    again = _cli("build", "repo", "--out", uri, "--backend", "rust", cwd=user, env=env)
    assert again.returncode == 0, again.stderr
    second = read_manifest(_download(s3_server, uri, tmp_path / "dl2") / "run.json")
    assert _fingerprints(second) == _fingerprints(on_disk)
    assert [t.delta_version for t in second.outputs] == [t.delta_version for t in in_bucket.outputs]


def test_compare_reads_two_runs_in_the_bucket(s3_server: Any, user: Path, tmp_path: Path) -> None:
    env = _env(s3_server, tmp_path)
    prefix = s3_server.new_prefix("compare")
    a, b = s3_server.uri(prefix + "/a"), s3_server.uri(prefix + "/b")
    for uri in (a, b):
        done = _cli("build", "repo", "--out", uri, "--backend", "rust", cwd=user, env=env)
        assert done.returncode == 0, done.stderr
    compared = _cli("compare", a, b, "--json", cwd=user, env=env)
    assert compared.returncode == 0, compared.stdout + compared.stderr
    result = json.loads(compared.stdout)["result"]
    assert result["coverage"]["tables_compared"] > 0
    assert result["subject"] == "a vs b"
    # The vacuous case: a prefix with no run in it is refused, never compared as a pass.
    empty = s3_server.uri(prefix + "/nothing-here")
    refused = _cli("compare", a, empty, "--json", cwd=user, env=env)
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert json.loads(refused.stdout)["error"]["code"] in {"RUN_NOT_FOUND", "NOT_A_RUN"}


def test_shadow_with_history_and_reports_in_the_bucket(
    s3_server: Any, user: Path, tmp_path: Path
) -> None:
    prefix = s3_server.new_prefix("shadow")
    history = s3_server.uri(prefix + "/parity_history")
    # Credentials from [storage] only, the secret through a variable named in the file.
    (user / "codeanatomy.toml").write_text(
        "[parity]\n"
        f'history = "{history}"\n'
        # The history in the bucket is maintained once it holds more than one file.
        "[maintenance]\nhistory_max_files = 1\nmin_files_to_compact = 2\n"
        "[storage]\n"
        "storage_options = { "
        f'AWS_ENDPOINT_URL = "{s3_server.endpoint}", '
        f'AWS_ACCESS_KEY_ID = "{s3_server.access_key}", '
        'AWS_SECRET_ACCESS_KEY = "${TEAM_S3_SECRET}", AWS_REGION = "us-east-1" }\n',
        encoding="utf-8",
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        CODEANATOMY_CACHE=str(tmp_path / "cache"),
        AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "none"),
        TEAM_S3_SECRET=s3_server.secret_key,
    )
    out = s3_server.uri(prefix + "/suite")
    done = _cli("shadow", "repo", "--out", out, "--json", cwd=user, env=env)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    report = json.loads(done.stdout)
    assert report["verdict"] == "pass"
    keys = list_files(out, s3_server.storage_options())
    assert {"report/parity.html", "report/parity.md", "report/parity.json"} <= set(keys)
    assert any(k.startswith("legacy/outputs/") for k in keys)
    assert any(k.startswith("rust/outputs/") for k in keys)
    rows = DeltaTable(history, storage_options=s3_server.storage_options()).to_pyarrow_table()
    assert set(rows.column("repo").to_pylist()) == {"repo", "*"}
    # The two sides in the bucket compare as a user would compare them on disk: the shared
    # evidence beside them (../evidence) comes along.
    sides = _cli("compare", f"{out}/legacy", f"{out}/rust", "--json", cwd=user, env=env)
    assert sides.returncode == 0, sides.stdout[-2000:] + sides.stderr[-2000:]
    coverage = json.loads(sides.stdout)["result"]["coverage"]
    stages = {t["stage"] for t in coverage["tables"] if t["primary_rows"]}
    assert stages == {"evidence", "views", "outputs"}, coverage
    # The cutover gate reads the history in the bucket: one clean run of five.
    gate = _cli("gate", "cutover", "--out", "gates", "--json", cwd=user, env=env)
    assert gate.returncode == 1, gate.stdout + gate.stderr
    verdict = json.loads(gate.stdout)
    assert verdict["checks"][0]["detail"].startswith("1/5"), verdict
    # Without --json the reports are named where a user finds them: in the bucket, not in the
    # local staging folder.
    again = _cli("shadow", "repo", "--out", out, cwd=user, env=env)
    assert again.returncode == 0, again.stdout[-2000:] + again.stderr[-2000:]
    assert f"reports: {out}/report\n" in again.stdout, again.stdout[-500:]
    # The second run's append made two files of the history: compacted into one, in the bucket.
    table = DeltaTable(history, storage_options=s3_server.storage_options())
    assert len(table.file_uris()) == 1
    assert table.to_pyarrow_table().num_rows == 4  # two runs, each its repo row and its * row
    _assert_no_secret(
        s3_server,
        [done.stdout, done.stderr, gate.stdout, gate.stderr, again.stdout, again.stderr],
        tmp_path,
        out,
    )


def _assert_no_secret(s3: Any, texts: list[str], tmp_path: Path, *uris: str) -> None:
    """Neither key appears in the outputs, the staging folders or any object in the bucket."""
    secrets = (s3.secret_key, s3.access_key)
    for text in texts:
        assert not any(s in text for s in secrets)
    folders = [tmp_path]
    for i, uri in enumerate(uris):
        folders.append(_download(s3, uri, tmp_path / f"leak-{i}"))
    for folder in folders:
        for path in folder.rglob("*"):
            # The user's own configuration file names the access key (the secret is a ${VAR}).
            if path.is_file() and path.name != "codeanatomy.toml":
                data = path.read_bytes()
                assert not any(s.encode() in data for s in secrets), path


def test_wrong_credentials_are_a_clear_usage_error(
    s3_server: Any, user: Path, tmp_path: Path
) -> None:
    env = _env(s3_server, tmp_path, AWS_SECRET_ACCESS_KEY="wrong-secret-0123456789")
    uri = s3_server.uri(s3_server.new_prefix("denied") + "/run")
    done = _cli("build", "repo", "--out", uri, "--backend", "rust", "--json", cwd=user, env=env)
    assert done.returncode == 2, done.stdout + done.stderr
    error = json.loads(done.stdout)["error"]
    assert error["code"] == "STORAGE_AUTH", error
    assert uri in error["message"]
    assert "Traceback" not in done.stderr
    assert "wrong-secret-0123456789" not in done.stdout + done.stderr
    # An endpoint nobody listens on: unreachable, also exit 2, in seconds.
    env = _env(s3_server, tmp_path, AWS_ENDPOINT_URL="http://127.0.0.1:9")
    started = time.monotonic()
    done = _cli("build", "repo", "--out", uri, "--json", cwd=user, env=env)
    assert done.returncode == 2, done.stdout + done.stderr
    assert json.loads(done.stdout)["error"]["code"] == "STORAGE_UNREACHABLE"
    assert time.monotonic() - started < 60


def test_concurrent_appends_to_the_history_lose_and_duplicate_nothing(
    s3_server: Any, tmp_path: Path
) -> None:
    """Four processes append three parity runs each to one history in the bucket at once
    (each run a report over no repository: one row per run, its ``*`` row)."""
    history = s3_server.uri(s3_server.new_prefix("history") + "/parity_history")
    script = tmp_path / "append.py"
    script.write_text(
        "import sys\n"
        "from harness.gates.history import append_history\n"
        "from harness.report.model import ParityReport\n"
        "from harness.storage import effective_options\n"
        "report = ParityReport(report_version='1', generated_at=sys.argv[2], versions={},\n"
        "                      verdict='pass', thresholds={}, counts={}, repos=())\n"
        "options = effective_options()\n"
        "print(' '.join(append_history(sys.argv[1], report, options) for _ in range(3)))\n",
        encoding="utf-8",
    )
    env = _env(s3_server, tmp_path, PYTHONPATH=str(ROOT))
    writers = [
        subprocess.Popen(
            [sys.executable, str(script), history, f"2026-12-07T00:00:0{i}+00:00"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            cwd=tmp_path,
        )
        for i in range(4)
    ]
    run_ids: list[str] = []
    for writer in writers:
        out, err = writer.communicate(timeout=300)
        assert writer.returncode == 0, err
        run_ids += out.split()
    assert len(run_ids) == 12 == len(set(run_ids))
    table = DeltaTable(history, storage_options=s3_server.storage_options())
    recorded = table.to_pyarrow_table().column("run_id").to_pylist()
    assert sorted(recorded) == sorted(run_ids)  # every run once: none lost, none twice
    assert table.version() == 11  # twelve commits, versions 0..11, none overwritten


def test_a_killed_publish_leaves_no_partial_table_visible(
    s3_server: Any, user: Path, tmp_path: Path
) -> None:
    """SIGKILL the build while it publishes (as soon as its first objects appear in the bucket,
    after a random delay): whatever landed, the run.json in the bucket (if any) pins versions
    every one of whose tables reads with the recorded rows; a rerun then completes."""
    env = _env(s3_server, tmp_path)
    options = s3_server.storage_options()
    uri = s3_server.uri(s3_server.new_prefix("killed") + "/run")
    rng = random.Random(16)
    for attempt in range(3):
        repo = user / "repo"
        target = sorted(repo.rglob("*.py"))[0]
        target.write_text(
            target.read_text(encoding="utf-8") + f"\n\ndef _k{attempt}():\n    return {attempt}\n"
        )
        before = set(list_files(uri, options))
        proc = subprocess.Popen(
            [str(CLI), "build", "repo", "--out", uri, "--backend", "rust"],
            cwd=user,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline and proc.poll() is None:
            if set(list_files(uri, options)) - before:
                time.sleep(rng.uniform(0.0, 0.3))
                break
            time.sleep(0.02)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        keys = list_files(uri, options)
        if "run.json" in keys:
            manifest = read_manifest(
                _download(s3_server, uri, tmp_path / f"k{attempt}") / "run.json"
            )
            for t in manifest.outputs:
                table = DeltaTable(t.uri, version=t.delta_version, storage_options=options)
                assert table.to_pyarrow_table().num_rows == t.rows, (attempt, t.table)
    done = _cli("build", "repo", "--out", uri, "--backend", "rust", cwd=user, env=env)
    assert done.returncode == 0, done.stderr
    local = _cli("build", "repo", "--out", "local", "--backend", "rust", cwd=user, env=env)
    assert local.returncode == 0, local.stderr
    final = read_manifest(_download(s3_server, uri, tmp_path / "final") / "run.json")
    expected = _fingerprints(read_manifest(user / "local" / "run.json"))
    got = _fingerprints(final)
    # evidence_summary records each evidence table's Delta version: after the builds into the
    # bucket they are at a later version than in a fresh folder. Its other columns must agree.
    summary = "outputs/evidence_summary"
    assert got.pop(summary)[0] == expected.pop(summary)[0]
    assert got == expected
    columns = ["source", "files", "rows", "files_with_warnings", "warnings"]
    entry = next(t for t in final.outputs if t.table == "evidence_summary")
    remote = DeltaTable(entry.uri.replace(str(tmp_path / "final"), uri), storage_options=options)
    here = DeltaTable(str(user / "local" / "outputs" / "evidence_summary"))
    assert (
        remote.to_pyarrow_table().select(columns).sort_by("source").to_pylist()
        == here.to_pyarrow_table().select(columns).sort_by("source").to_pylist()
    )


def test_two_builds_into_one_uri_at_once_one_is_refused(
    s3_server: Any, user: Path, tmp_path: Path
) -> None:
    """Two ``build``s of one bucket URI started at once, each with its own cache (its own
    staging folder, as on two machines: no local lock between them): the bucket's lock lets
    exactly one write; the other exits 2 with OUT_BUSY naming the holder."""
    uri = s3_server.uri(s3_server.new_prefix("busy") + "/run")
    procs = [
        subprocess.Popen(
            [str(CLI), "build", "repo", "--out", uri, "--backend", "rust", "--json"],
            cwd=user,
            env=_env(s3_server, tmp_path, CODEANATOMY_CACHE=str(tmp_path / f"machine-{i}")),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(2)
    ]
    results = [(p, *p.communicate(timeout=900)) for p in procs]
    codes = sorted(p.returncode for p, _, _ in results)
    assert codes == [0, 2], [(p.returncode, err[-1000:]) for p, _, err in results]
    (winner, _, _), (_, refused, _) = sorted(results, key=lambda r: r[0].returncode)
    error = json.loads(refused)["error"]
    assert error["code"] == "OUT_BUSY", error
    assert uri in error["message"]
    assert f"pid {winner.pid}" in error["message"]  # names the holder
    assert "build repo" in error["message"]
    # The winner's run is whole in the bucket, the lock table beside it is no part of it, and
    # the URI is free again.
    keys = list_files(uri, s3_server.storage_options())
    assert "run.json" in keys
    manifest = read_manifest(_download(s3_server, uri, tmp_path / "dl") / "run.json")
    assert manifest.outputs
    assert not any(
        "_codeanatomy_lock" in (t.path or "") for t in [*manifest.inputs, *manifest.outputs]
    )
    assert not (tmp_path / "dl" / "_codeanatomy_lock").exists()
    again = _cli(
        "build", "repo", "--out", uri, "--backend", "rust", cwd=user, env=_env(s3_server, tmp_path)
    )
    assert again.returncode == 0, again.stderr
