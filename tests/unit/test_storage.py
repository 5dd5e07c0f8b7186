"""harness.storage: options, credentials hidden, URIs, publish order without a server; then,
with the S3 server (tests/s3_server.py), what publishing sends and what reading a run fetches.

The commands that talk to a real S3 server are in tests/e2e/test_object_storage.py.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.config.load import load_text
from harness.errors import UsageError
from harness.staging import remote_of, staged_out
from harness.storage import (
    STORAGE_OPTIONS_INVALID,
    STORAGE_SCHEME_UNSUPPORTED,
    _publish_order,
    effective_options,
    has_credentials,
    is_uri,
    pull,
    push,
    redact,
    shown_options,
    split_uri,
    staged_in,
    staging_dir,
)
from tests.s3_server import S3Server


def test_uris_and_paths_are_told_apart() -> None:
    assert is_uri("s3://bucket/run")
    assert is_uri("gs://bucket/run")
    assert not is_uri("file:///tmp/run")
    assert not is_uri("runs/a")
    assert not is_uri("C:/runs")
    assert not is_uri("run:1")


def test_split_uri_refuses_untested_schemes_and_a_missing_bucket() -> None:
    assert split_uri("s3://cpg/team/run-1/") == ("s3", "cpg", "team/run-1")
    assert split_uri("s3://cpg") == ("s3", "cpg", "")
    with pytest.raises(UsageError) as info:
        split_uri("gs://cpg/run")
    assert info.value.code == STORAGE_SCHEME_UNSUPPORTED
    with pytest.raises(UsageError) as info:
        split_uri("s3:///run")
    assert info.value.code == STORAGE_OPTIONS_INVALID


def test_configured_options_override_the_environment_and_expand_variables() -> None:
    env = {
        "AWS_ACCESS_KEY_ID": "env-key",
        "AWS_SECRET_ACCESS_KEY": "env-secret",
        "AWS_ENDPOINT_URL": "http://127.0.0.1:1",
        "CI_S3_SECRET": "from-ci",
        "UNRELATED": "x",
    }
    options = effective_options(
        {"aws_secret_access_key": "${CI_S3_SECRET}", "AWS_REGION": "eu-west-1"}, env
    )
    assert options["AWS_ACCESS_KEY_ID"] == "env-key"
    assert options["aws_secret_access_key"] == "from-ci"
    assert "AWS_SECRET_ACCESS_KEY" not in options  # one spelling of the option, the config's
    assert options["AWS_REGION"] == "eu-west-1"
    assert options["AWS_ALLOW_HTTP"] == "true"  # a plain-HTTP endpoint was named
    assert options["conditional_put"] == "etag"  # safe concurrent commits by default
    assert "UNRELATED" not in options


def test_a_chosen_locking_mode_is_kept_and_nothing_is_added_for_https() -> None:
    options = effective_options(
        {"AWS_S3_LOCKING_PROVIDER": "dynamodb"}, {"AWS_ENDPOINT_URL": "https://s3.example"}
    )
    assert "conditional_put" not in options
    assert "AWS_ALLOW_HTTP" not in options


def test_an_unset_variable_in_the_options_is_a_usage_error() -> None:
    with pytest.raises(UsageError) as info:
        effective_options({"AWS_SECRET_ACCESS_KEY": "${NOT_SET_ANYWHERE}"}, {})
    assert info.value.code == STORAGE_OPTIONS_INVALID
    assert "NOT_SET_ANYWHERE" in info.value.message


def test_no_options_and_no_environment_give_only_the_defaults() -> None:
    # The vacuous case: nothing configured gives no credential and no endpoint.
    assert effective_options({}, {}) == {"conditional_put": "etag"}
    assert not has_credentials({}, {"AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/credentials"})


def test_credentials_are_found_in_options_profile_or_file(tmp_path: Path) -> None:
    none = {"AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "absent")}
    assert has_credentials({"AWS_ACCESS_KEY_ID": "k"}, none)
    assert has_credentials({}, {**none, "AWS_PROFILE": "ci"})
    (tmp_path / "credentials").write_text("[default]\n")
    assert has_credentials({}, {"AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "credentials")})


def test_redact_hides_every_credential_and_keeps_the_rest(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_SESSION_TOKEN", "token-from-env-0123")
    options = {
        "AWS_ACCESS_KEY_ID": "AKIAEXAMPLE",
        "aws_secret_access_key": "s3cr3t/with+chars",
        "AWS_ENDPOINT_URL": "http://127.0.0.1:8333",
    }
    text = (
        "denied for AKIAEXAMPLE using s3cr3t/with+chars at http://127.0.0.1:8333 "
        "token-from-env-0123"
    )
    shown = redact(text, options)
    assert "AKIAEXAMPLE" not in shown
    assert "s3cr3t" not in shown
    assert "token-from-env" not in shown
    assert "http://127.0.0.1:8333" in shown
    assert redact("nothing secret here", {}) == "nothing secret here"


def test_config_storage_section_is_loaded_and_shown_without_secrets() -> None:
    loaded = load_text(
        '[storage]\nstorage_options = { AWS_ACCESS_KEY_ID = "AKIAFILE", '
        'AWS_SECRET_ACCESS_KEY = "${CI_SECRET}", AWS_REGION = "us-east-1" }\n',
        file=None,
        root=Path("/project"),
        env={},
    )
    options = loaded.config.storage.storage_options
    assert options["AWS_REGION"] == "us-east-1"
    shown = shown_options(options)
    assert shown["AWS_ACCESS_KEY_ID"] == "***"  # a literal credential in a file stays hidden
    assert shown["AWS_SECRET_ACCESS_KEY"] == "${CI_SECRET}"  # a reference holds no secret
    assert shown["AWS_REGION"] == "us-east-1"


def test_an_unknown_storage_key_is_a_config_error() -> None:
    from harness.config.model import ConfigError

    with pytest.raises(ConfigError) as info:
        load_text('[storage]\noptions = { a = "b" }\n', file=None, root=Path("/p"), env={})
    assert "storage_options" in str(info.value)


def test_publish_order_puts_data_then_logs_then_manifests() -> None:
    files = [
        "run.json",
        "outputs/cpg_nodes/_delta_log/00000000000000000001.json",
        "outputs/cpg_nodes/part-0001.parquet",
        "outputs/cpg_nodes/_delta_log/_last_checkpoint",
        "outputs/cpg_nodes/_delta_log/00000000000000000000.json",
        "report/parity.md",
        "repo/run.json",
    ]
    ordered = sorted(files, key=_publish_order)
    assert ordered[:2] == ["outputs/cpg_nodes/part-0001.parquet", "report/parity.md"]
    assert ordered[2:4] == [
        "outputs/cpg_nodes/_delta_log/00000000000000000000.json",
        "outputs/cpg_nodes/_delta_log/00000000000000000001.json",
    ]
    assert ordered[4] == "outputs/cpg_nodes/_delta_log/_last_checkpoint"
    assert set(ordered[5:]) == {"run.json", "repo/run.json"}


def test_staging_folders_are_per_uri_and_stable(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("CODEANATOMY_CACHE", str(tmp_path))
    a = staging_dir("s3://cpg/runs/a")
    assert a == staging_dir("s3://cpg/runs/a/")
    assert a != staging_dir("s3://cpg/runs/b")
    assert a.parent == tmp_path / "remote"


def test_publishing_never_follows_links_nor_sends_local_scratch(tmp_path: Path) -> None:
    from harness.storage import _LOCAL_ONLY, _local_files

    (tmp_path / "outputs" / "t").mkdir(parents=True)
    (tmp_path / "outputs" / "t" / "part-0.parquet").write_bytes(b"x" * 10)
    scratch = tmp_path / "work" / "scip" / "run-1" / "bin"
    scratch.mkdir(parents=True)
    (scratch / "node").symlink_to("/bin/sh")  # a link to a large binary, as scip's scratch has
    (tmp_path / "link-to-outputs").symlink_to(tmp_path / "outputs", target_is_directory=True)
    found = _local_files(tmp_path)
    assert found == {"outputs/t/part-0.parquet": 10}
    assert _LOCAL_ONLY.search("work/scip/run-1/index.scip")
    assert _LOCAL_ONLY.search("legacy/.codeanatomy-lock")
    assert not _LOCAL_ONLY.search("outputs/work/part-0.parquet")
    assert _local_files(tmp_path / "absent") == {}  # the vacuous case: nothing to publish


# --- with the S3 server (tests/s3_server.py): publishing what changed, the staging registry --


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_a_file_pulled_and_left_unchanged_is_never_sent_back(
    s3_server: S3Server, tmp_path: Path
) -> None:
    """The driver of a Ray suite pulls a run a task published; its own publish must not send
    that copy back (a copy pulled earlier would overwrite a task's fresher ``run.json``)."""
    options = s3_server.storage_options()
    uri = s3_server.uri(s3_server.new_prefix("pulled"))
    worker, driver = tmp_path / "worker", tmp_path / "driver"
    _write(worker / "a" / "run.json", '{"v": 1}')
    _write(worker / "a" / "report.md", "one")
    assert push(worker, uri, options) == 2
    assert pull(uri, driver, options) == 2
    # The vacuous case first: nothing changed, nothing is sent.
    assert push(driver, uri, options) == 0
    # A task publishes a fresher run; the driver's stale copy stays unsent.
    _write(worker / "a" / "run.json", '{"v": 2, "fresher": true}')
    assert push(worker, uri, options) == 2  # files it did not pull are sent, as always
    assert push(driver, uri, options) == 0
    assert pull(uri, tmp_path / "check", options) == 2
    assert (tmp_path / "check" / "a" / "run.json").read_text() == '{"v": 2, "fresher": true}'
    # What the driver changes itself, or never pulled, is sent.
    _write(driver / "a" / "report.md", "two")
    _write(driver / "b" / "run.json", "{}")
    assert push(driver, uri, options) == 2
    assert pull(uri, tmp_path / "again", options) == 3
    assert (tmp_path / "again" / "a" / "report.md").read_text() == "two"
    assert (tmp_path / "again" / "a" / "run.json").read_text() == '{"v": 2, "fresher": true}'


def test_pull_only_fetches_the_named_folders(s3_server: S3Server, tmp_path: Path) -> None:
    options = s3_server.storage_options()
    uri = s3_server.uri(s3_server.new_prefix("only"))
    _write(tmp_path / "src" / "evidence" / "t1" / "x.json", "1")
    _write(tmp_path / "src" / "evidence" / "t10" / "x.json", "10")
    _write(tmp_path / "src" / "evidence" / "t2" / "x.json", "2")
    push(tmp_path / "src", uri, options)
    got = pull(f"{uri}/evidence", tmp_path / "dst", options, only=["t1"])
    assert got == 1
    assert sorted(p.name for p in (tmp_path / "dst").iterdir()) == ["t1"]  # not t10
    assert pull(f"{uri}/evidence", tmp_path / "all", options, only=[""]) == 3


def test_a_run_read_from_the_bucket_gets_the_tables_it_names_beside_it(
    s3_server: S3Server, tmp_path: Path
) -> None:
    """A side of a shadow run names the shared evidence as ``../evidence/<table>``: those
    tables (and no other) are fetched, at the same relative place."""
    options = s3_server.storage_options()
    uri = s3_server.uri(s3_server.new_prefix("beside"))
    run = {
        "outputs": [{"path": "outputs/t", "table": "t"}],
        "inputs": [
            {"path": "../evidence/a", "table": "a"},
            {"path": "../evidence/b", "table": "b"},
        ],
    }
    src = tmp_path / "src"
    _write(src / "primary" / "run.json", json.dumps(run))
    _write(src / "primary" / "outputs" / "t" / "part-0.parquet", "t")
    for table in ("a", "b", "unnamed"):
        _write(src / "evidence" / table / "part-0.parquet", table)
    _write(src / "candidate" / "run.json", "{}")
    push(src, uri, options)
    with staged_in(f"{uri}/primary", options) as local:
        assert (local / "outputs" / "t" / "part-0.parquet").read_text() == "t"
        evidence = local.parent / "evidence"
        assert sorted(p.name for p in evidence.iterdir()) == ["a", "b"]
        assert (evidence / "a" / "part-0.parquet").read_text() == "a"
        assert not (local.parent / "candidate").exists()


def test_a_staged_folder_knows_where_it_is_published(
    s3_server: S3Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CODEANATOMY_CACHE", str(tmp_path / "cache"))
    options = s3_server.storage_options()
    uri = s3_server.uri(s3_server.new_prefix("staged"))
    assert remote_of(tmp_path) is None  # the vacuous case: a local folder
    with staged_out(uri, options) as local:
        assert remote_of(local) == (uri, options)
        assert remote_of(local / "repo" / "parity") == (f"{uri}/repo/parity", options)
        assert remote_of(local.parent) is None
    assert remote_of(local) is None  # the block ended: published, no longer staged here
