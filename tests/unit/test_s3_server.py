"""The S3 test server (tests/s3_server.py, a real SeaweedFS): Delta tables written to it with
deltalake read back equal, it refuses a wrong secret, and stopping it leaves no process."""

from __future__ import annotations

import json
import shlex
import socket
from pathlib import Path

import pyarrow as pa
import pytest
from deltalake import DeltaTable, write_deltalake

from tests.s3_server import (
    ENV_ENDPOINT,
    S3Server,
    S3ServerError,
    WeedMissing,
    _group_alive,
    main,
    missing_weed,
    weed_binary,
)

FIRST_COMMIT = "_delta_log/00000000000000000000.json"


def _table(start: int, rows: int) -> pa.Table:
    ids = list(range(start, start + rows))
    return pa.table({"id": pa.array(ids, pa.int64()), "name": [f"row {i}" for i in ids]})


def _port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(1.0)
        return s.connect_ex(("127.0.0.1", port)) == 0


def _wrong_secret(server: S3Server) -> S3Server:
    return S3Server(
        server.endpoint, server.access_key, server.secret_key + "x", server.bucket, server.region
    )


# -- against the session's server -------------------------------------------------------


def test_a_delta_table_written_to_s3_reads_back_equal(s3_server: S3Server) -> None:
    uri = s3_server.uri(s3_server.new_prefix("round-trip"))
    data = _table(0, 100)
    write_deltalake(uri, data, storage_options=s3_server.storage_options())
    table = DeltaTable(uri, storage_options=s3_server.storage_options())
    assert table.version() == 0
    assert pa.table(table.to_pyarrow_table()).sort_by("id").equals(data)


def test_two_appends_make_version_1_holding_both(s3_server: S3Server) -> None:
    uri = s3_server.uri(s3_server.new_prefix("appends"))
    write_deltalake(uri, _table(0, 3), storage_options=s3_server.storage_options())
    write_deltalake(uri, _table(3, 4), mode="append", storage_options=s3_server.storage_options())
    table = DeltaTable(uri, storage_options=s3_server.storage_options())
    assert table.version() == 1
    assert pa.table(table.to_pyarrow_table()).sort_by("id").equals(_table(0, 7))


def test_list_keys_sees_the_first_commit(s3_server: S3Server) -> None:
    prefix = s3_server.new_prefix("keys")
    write_deltalake(
        s3_server.uri(prefix), _table(0, 2), storage_options=s3_server.storage_options()
    )
    keys = s3_server.list_keys(prefix)
    assert f"{prefix}/{FIRST_COMMIT}" in keys
    assert any(key.endswith(".parquet") for key in keys)
    assert all(key.startswith(f"{prefix}/") for key in keys)


def test_list_keys_reads_every_page(s3_server: S3Server) -> None:
    prefix = s3_server.new_prefix("pages")
    written = [f"{prefix}/object {i}.txt" for i in range(5)]
    for key in written:
        assert s3_server.request("PUT", f"/{s3_server.bucket}/{key}")[0] == 200
    assert s3_server.list_keys(prefix, page_size=2) == sorted(written)
    assert s3_server.list_keys(f"{prefix}/object 3") == [f"{prefix}/object 3.txt"]


def test_list_keys_of_an_unused_prefix_is_empty(s3_server: S3Server) -> None:
    assert s3_server.list_keys(s3_server.new_prefix("unused")) == []


def test_the_server_refuses_a_wrong_secret(s3_server: S3Server) -> None:
    prefix = s3_server.new_prefix("refused")
    options = _wrong_secret(s3_server).storage_options()
    with pytest.raises(OSError) as refused:
        write_deltalake(s3_server.uri(prefix), _table(0, 2), storage_options=options)
    # The server's refusal, not a connection problem: HTTP 403 with S3's error code.
    assert "403" in str(refused.value) or "SignatureDoesNotMatch" in str(refused.value)
    assert s3_server.list_keys(prefix) == []


def test_signed_requests_with_a_wrong_secret_get_403(s3_server: S3Server) -> None:
    query = {"list-type": "2", "max-keys": "1"}
    assert s3_server.request("GET", f"/{s3_server.bucket}", query)[0] == 200
    status, body = _wrong_secret(s3_server).request("GET", f"/{s3_server.bucket}", query)
    assert status == 403
    assert b"SignatureDoesNotMatch" in body
    with pytest.raises(S3ServerError):
        _wrong_secret(s3_server).list_keys("")


def test_a_prefix_is_new_each_time_and_the_uri_names_the_bucket(s3_server: S3Server) -> None:
    prefixes = {S3Server.new_prefix("same tag/..") for _ in range(100)}
    assert len(prefixes) == 100
    assert all(p.startswith("same-tag-..-") and "/" not in p for p in prefixes)
    assert s3_server.uri("/a/b/") == f"s3://{s3_server.bucket}/a/b"


def test_env_and_storage_options_name_the_same_server(s3_server: S3Server) -> None:
    options, env = s3_server.storage_options(), s3_server.env()
    assert {k: options[k] for k in env} == env
    assert env["AWS_ENDPOINT_URL"] == s3_server.endpoint
    assert env["AWS_ALLOW_HTTP"] == "true"
    assert options["conditional_put"] == "etag"


# -- finding a running server, a missing binary --------------------------------------------


def test_from_env_finds_the_server_its_variables_name(s3_server: S3Server) -> None:
    found = S3Server.from_env(s3_server.variables())
    assert found is not None
    assert (found.endpoint, found.access_key, found.secret_key, found.bucket, found.region) == (
        s3_server.endpoint,
        s3_server.access_key,
        s3_server.secret_key,
        s3_server.bucket,
        s3_server.region,
    )
    assert found.pgid is None  # not ours to stop
    found.stop()
    found.wait_until_serving(5.0)


def test_from_env_without_an_endpoint_is_none() -> None:
    assert S3Server.from_env({}) is None
    assert S3Server.from_env({ENV_ENDPOINT: ""}) is None


def test_from_env_with_an_endpoint_but_no_keys_is_an_error() -> None:
    with pytest.raises(S3ServerError, match="CODEANATOMY_TEST_S3_SECRET_KEY"):
        S3Server.from_env({ENV_ENDPOINT: "http://127.0.0.1:1"})


def test_a_missing_binary_is_reported_before_anything_starts(tmp_path: Path) -> None:
    with pytest.raises(WeedMissing, match="make s3server"):
        S3Server.start(tmp_path / "server", binary=tmp_path / "no-weed")
    assert not (tmp_path / "server").exists()


@pytest.mark.parametrize(("environ", "outcome"), [({"CI": "true"}, "fail"), ({}, "skip")])
def test_a_missing_binary_fails_on_ci_and_skips_elsewhere(
    environ: dict[str, str], outcome: str
) -> None:
    expected = pytest.fail.Exception if outcome == "fail" else pytest.skip.Exception
    with pytest.raises(expected, match="make s3server"):
        missing_weed(WeedMissing("no SeaweedFS binary at /x: run `make s3server`"), environ)


# -- private servers: start and stop -------------------------------------------------------


@pytest.fixture
def weed() -> Path:
    binary = weed_binary()
    if not binary.is_file():
        missing_weed(WeedMissing(f"no SeaweedFS binary at {binary}: run `make s3server`"))
    return binary


def test_stop_leaves_no_process_and_closes_the_port(tmp_path: Path, weed: Path) -> None:
    server = S3Server.start(tmp_path / "server", bucket="private", binary=weed)
    pgid = server.pgid
    assert pgid is not None and _group_alive(pgid)
    assert _port_open(server.ports["s3.port"])
    assert server.list_keys("") == []
    server.stop()
    assert not _group_alive(pgid)
    assert not any(_port_open(port) for port in server.ports.values())
    assert server.pgid is None
    server.stop()  # a second stop is a no-op


def _script(path: Path, body: str) -> Path:
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(0o755)
    return path


def test_a_server_that_exits_is_retried_then_reported_with_its_log(tmp_path: Path) -> None:
    fake = _script(tmp_path / "weed", "echo 'port 1 is not available' >&2; exit 3")
    with pytest.raises(S3ServerError, match="exited with 3") as failed:
        S3Server.start(tmp_path / "server", binary=fake, attempts=2)
    assert "port 1 is not available" in str(failed.value)
    launches = (tmp_path / "server" / "weed.log").read_text().count(f"$ {fake} ")
    assert launches == 2


def test_a_server_that_never_answers_times_out_and_is_stopped(tmp_path: Path) -> None:
    pid_file = tmp_path / "pid"
    fake = _script(
        tmp_path / "weed", f"echo $$ > {pid_file}; echo listening nowhere; exec sleep 600"
    )
    with pytest.raises(S3ServerError, match="did not serve") as failed:
        S3Server.start(tmp_path / "server", binary=fake, limit_s=1.0)
    assert "listening nowhere" in str(failed.value)
    launches = (tmp_path / "server" / "weed.log").read_text().count(f"$ {fake} ")
    assert launches == 1  # a timeout is not retried
    assert not _group_alive(int(pid_file.read_text()))


def test_the_ci_commands_start_and_stop_a_server(
    tmp_path: Path, weed: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "ci"
    assert main(["start", str(folder)]) == 0
    exports = dict(
        shlex.split(line)[1].split("=", 1) for line in capsys.readouterr().out.splitlines()
    )
    server = S3Server.from_env(exports)
    assert server is not None
    assert server.list_keys("") == []
    pgid = json.loads((folder / "server.json").read_text())["pgid"]
    assert _group_alive(pgid)
    assert main(["stop", str(folder)]) == 0
    assert not _group_alive(pgid)
    assert not _port_open(int(server.endpoint.rsplit(":", 1)[1]))
    assert main(["stop", str(folder)]) == 2  # nothing left to stop
