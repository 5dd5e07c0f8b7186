"""The Rust engine reads and writes Delta tables in an object store (issue 16), on a real
S3-compatible server (SeaweedFS, the ``s3_server`` fixture).

Golden ``callgraph`` evidence is copied object for object into the bucket; the engine then runs
with its inputs, outputs and views at ``s3://`` URIs and must commit exactly the tables a local
run commits. Credentials come from ``storage_options`` or from the standard ``AWS_*``
variables, and never appear in an error.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import msgspec
import pytest
from deltalake import DeltaTable
from pyarrow import fs

from backends import rust
from backends.contract.fingerprint import fingerprint
from backends.contract.schemas import EVIDENCE_TABLES
from backends.contract.spec import OutputSpec, SemanticExecutionSpec
from backends.contract.views import default_spec, evidence_bindings
from tests.s3_server import S3Server

ROOT = Path(__file__).parents[2]


def _bucket_fs(server: S3Server) -> fs.S3FileSystem:
    scheme, _, host = server.endpoint.partition("://")
    return fs.S3FileSystem(
        access_key=server.access_key,
        secret_key=server.secret_key,
        endpoint_override=host,
        scheme=scheme,
        region=server.region,
    )


@pytest.fixture(scope="module")
def s3_evidence(evidence: Path, s3_server: S3Server) -> str:
    """The golden evidence copied, object for object, to the bucket: its ``s3://`` folder."""
    prefix = s3_server.new_prefix("rust-evidence")
    fs.copy_files(
        str(evidence),
        f"{s3_server.bucket}/{prefix}/evidence",
        destination_filesystem=_bucket_fs(s3_server),
    )
    return f"{s3_server.uri(prefix)}/evidence"


@pytest.fixture(scope="module")
def local_run(
    evidence: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[rust.TableWrite, ...]:
    """The same workload with every table on local disk: the reference."""
    out = tmp_path_factory.mktemp("local")
    return rust.run_with_writes(workload(evidence), out / "out", out / "views")[1]


def _read(uri: str, options: dict[str, str] | None = None) -> Any:
    return DeltaTable(uri, storage_options=options).to_pyarrow_table()


def workload(evidence_root: Path | str, **outputs: str) -> SemanticExecutionSpec:
    """The default spec over the evidence under ``evidence_root`` (a folder or an ``s3://``
    URI; every table at version 0); ``outputs`` maps output tables to the views that fill them,
    when only some are wanted."""
    spec = default_spec(evidence_bindings(str(evidence_root), dict.fromkeys(EVIDENCE_TABLES, 0)))
    if outputs:
        chosen = tuple(OutputSpec(table=t, view=v) for t, v in outputs.items())
        spec = msgspec.structs.replace(spec, outputs=chosen)
    return spec


def test_a_run_on_the_bucket_commits_what_a_local_run_commits(
    s3_server: S3Server, s3_evidence: str, local_run: tuple[rust.TableWrite, ...]
) -> None:
    options = s3_server.storage_options()
    root = s3_server.uri(s3_server.new_prefix("rust-run"))
    result, writes = rust.run_with_writes(
        workload(s3_evidence), f"{root}/outputs", f"{root}/views", storage_options=options
    )
    assert [(w.name, w.kind) for w in writes] == [(w.name, w.kind) for w in local_run]
    for remote, local in zip(writes, local_run, strict=True):
        folder = "outputs" if remote.kind == "output" else "views"
        assert remote.uri == f"{root}/{folder}/{remote.name}"
        assert (remote.mode, remote.delta_version) == ("create", 0)
        assert remote.rows_inserted == local.rows_inserted
        table = _read(remote.uri, options)
        assert table.num_rows == local.rows_inserted
        assert fingerprint(table) == fingerprint(_read(local.uri)), remote.name
    assert all(o.uri.startswith(root) for o in result.outputs)


def test_the_same_run_again_on_the_bucket_commits_nothing(
    s3_server: S3Server, s3_evidence: str
) -> None:
    options = s3_server.storage_options()
    root = s3_server.uri(s3_server.new_prefix("rust-again"))
    spec = workload(s3_evidence, cpg_nodes="file_nodes")
    rust.run(spec, f"{root}/outputs", storage_options=options)
    _, (w,) = rust.run_with_writes(spec, f"{root}/outputs", storage_options=options)
    assert (w.mode, w.version_before, w.delta_version) == ("unchanged", 0, 0)
    assert (w.rows_inserted, w.rows_updated, w.rows_deleted) == (0, 0, 0)
    assert DeltaTable(w.uri, storage_options=options).version() == 0


def test_tier_3_plans_over_inputs_on_the_bucket(s3_server: S3Server, s3_evidence: str) -> None:
    report = rust.plan(workload(s3_evidence), 3, storage_options=s3_server.storage_options())
    assert report.validation


def _secret_free(exc: rust.EngineError, *secrets: str) -> None:
    text = f"{exc} {exc!r} {json.dumps(exc.context)}"
    for secret in secrets:
        assert secret not in text, "a credential leaked into the error"


@pytest.mark.parametrize(
    ("inputs_on_bucket", "code", "kind"),
    [(True, "INPUT_TABLE_MISSING", rust.RegisterError), (False, "COMMIT_FAILED", rust.CommitError)],
    ids=["input", "output"],
)
def test_a_wrong_secret_is_refused_without_naming_a_key(
    s3_server: S3Server,
    s3_evidence: str,
    evidence: Path,
    inputs_on_bucket: bool,
    code: str,
    kind: type[rust.EngineError],
) -> None:
    options = {**s3_server.storage_options(), "AWS_SECRET_ACCESS_KEY": "not-the-secret-4d1f9"}
    root = s3_server.uri(s3_server.new_prefix("rust-refused"))
    spec = workload(s3_evidence if inputs_on_bucket else evidence, cpg_nodes="file_nodes")
    with pytest.raises(kind) as caught:
        rust.run(spec, f"{root}/outputs", storage_options=options)
    exc = caught.value
    assert exc.code == code
    assert "s3://" in str(exc), "the message names the table"
    assert exc.context.get("store_error") in {"permission_denied", "unauthenticated", "unavailable"}
    _secret_free(exc, s3_server.access_key, "not-the-secret-4d1f9", s3_server.secret_key)


@pytest.mark.parametrize(
    ("inputs_on_bucket", "code"),
    [(True, "INPUT_TABLE_MISSING"), (False, "COMMIT_FAILED")],
    ids=["input", "output"],
)
def test_an_unreachable_endpoint_fails_in_seconds(
    s3_server: S3Server, s3_evidence: str, evidence: Path, inputs_on_bucket: bool, code: str
) -> None:
    # Port 9 (discard) on loopback: nothing listens, every connection is refused.
    options = {**s3_server.storage_options(), "AWS_ENDPOINT_URL": "http://127.0.0.1:9"}
    spec = workload(s3_evidence if inputs_on_bucket else evidence, cpg_nodes="file_nodes")
    start = time.monotonic()
    with pytest.raises(rust.EngineError) as caught:
        rust.run(spec, f"{s3_server.uri('unreachable')}/outputs", storage_options=options)
    assert time.monotonic() - start < 30
    assert caught.value.code == code
    assert caught.value.context.get("store_error") == "unavailable"
    _secret_free(caught.value, s3_server.access_key, s3_server.secret_key)


def test_an_output_to_a_missing_bucket_is_commit_failed(
    s3_server: S3Server, evidence: Path
) -> None:
    spec = workload(evidence, cpg_nodes="file_nodes")
    with pytest.raises(rust.CommitError) as caught:
        rust.run(
            spec, "s3://no-such-bucket-7c1e/outputs", storage_options=s3_server.storage_options()
        )
    assert "s3://no-such-bucket-7c1e/outputs/cpg_nodes" in str(caught.value)
    _secret_free(caught.value, s3_server.access_key, s3_server.secret_key)


@pytest.mark.parametrize(
    "where", ["s3://{bucket}/{prefix}/nothing-here", "s3://no-such-bucket-7c1e/evidence"]
)
def test_an_input_that_is_not_on_the_bucket_is_input_table_missing(
    s3_server: S3Server, s3_evidence: str, where: str
) -> None:
    missing = where.format(bucket=s3_server.bucket, prefix=s3_server.new_prefix("rust-missing"))
    spec = workload(missing, cpg_nodes="file_nodes")
    start = time.monotonic()
    with pytest.raises(rust.RegisterError) as caught:
        rust.run(
            spec, f"{s3_server.uri('never')}/outputs", storage_options=s3_server.storage_options()
        )
    assert time.monotonic() - start < 30
    assert caught.value.code == "INPUT_TABLE_MISSING"
    assert missing in str(caught.value)


_ENV_ONLY_RUN = """
import json, sys
from backends import rust
spec, root = sys.argv[1], sys.argv[2]
_, writes = rust.run_with_writes(open(spec).read(), root)
print(json.dumps([[w.name, w.mode, w.delta_version, w.rows_inserted] for w in writes]))
"""


def test_credentials_from_the_environment_alone_work(
    s3_server: S3Server, s3_evidence: str, tmp_path: Path
) -> None:
    spec = tmp_path / "spec.json"
    spec.write_bytes(msgspec.json.encode(workload(s3_evidence, cpg_nodes="file_nodes")))
    root = f"{s3_server.uri(s3_server.new_prefix('rust-env'))}/outputs"
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    done = subprocess.run(
        [sys.executable, "-c", _ENV_ONLY_RUN, str(spec), root],
        env={**env, **s3_server.env()},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    ((name, mode, version, rows),) = json.loads(done.stdout)
    assert (name, mode, version) == ("cpg_nodes", "create", 0)
    assert _read(f"{root}/cpg_nodes", s3_server.storage_options()).num_rows == rows > 0


def test_the_copied_evidence_is_every_table(s3_server: S3Server, s3_evidence: str) -> None:
    # The premise of the comparisons above: every evidence table is on the bucket, at version 0.
    for name in EVIDENCE_TABLES:
        assert (
            DeltaTable(
                f"{s3_evidence}/{name}", storage_options=s3_server.storage_options()
            ).version()
            == 0
        )


def test_an_option_value_the_store_echoes_is_redacted(s3_server: S3Server, evidence: Path) -> None:
    # delta-rs quotes an option value it cannot parse: the engine's error must not.
    value = "not-a-duration-5e2b"
    options = {**s3_server.storage_options(), "retry_timeout": value}
    with pytest.raises(rust.CommitError) as caught:
        rust.run(
            workload(evidence, cpg_nodes="file_nodes"),
            f"{s3_server.uri(s3_server.new_prefix('rust-echo'))}/outputs",
            storage_options=options,
        )
    assert "[redacted]" in str(caught.value)
    _secret_free(caught.value, value, s3_server.access_key, s3_server.secret_key)
