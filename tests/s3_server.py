"""A real S3-compatible server on this machine for the tests: SeaweedFS (``weed mini``, a
master, a volume server, a filer and its S3 gateway in one process), built by ``make s3server``
from Go's module proxy (issue 16: Delta tables at ``s3://`` URIs, tested against a real server,
never a mock library).

Every server listens on loopback ports of its own, chosen free at start, stores its data and
logs under a folder of its own and has a generated access key and secret, so several can run at
once (one per pytest-xdist worker). It runs in a process group of its own: :meth:`S3Server.stop`
ends exactly that group. Standard library only (the S3 calls here are signed by hand with
SigV4), so ``python3 -m tests.s3_server start DIR`` works before the project's environment
exists; .ci/run starts one that way for a whole test run (see :func:`main`).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import hashlib
import hmac
import json
import os
import random
import secrets
import shlex
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from typing import NoReturn

#: Where ``make s3server`` puts the binary; ``CODEANATOMY_WEED`` names another one.
DEFAULT_WEED = Path.home() / ".cache" / "codeanatomy" / "bin" / "weed"
BUILD_HINT = "run `make s3server` (builds SeaweedFS's weed from Go's module proxy)"
#: The variables naming a server that is already running (set by .ci/run for the whole run).
ENV_ENDPOINT = "CODEANATOMY_TEST_S3_ENDPOINT"
ENV_ACCESS_KEY = "CODEANATOMY_TEST_S3_ACCESS_KEY"
ENV_SECRET_KEY = "CODEANATOMY_TEST_S3_SECRET_KEY"
ENV_BUCKET = "CODEANATOMY_TEST_S3_BUCKET"
ENV_REGION = "CODEANATOMY_TEST_S3_REGION"
DEFAULT_BUCKET = "codeanatomy-test"
DEFAULT_REGION = "us-east-1"
START_LIMIT_S = 90.0
STOP_GRACE_S = 10.0
REQUEST_TIMEOUT_S = 10.0
LOG_TAIL_LINES = 40
PORT_LOW = 12000
S3_NS = "{http://s3.amazonaws.com/doc/2006-03-01/}"
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
# Straight to the loopback server, whatever proxy the environment names.
_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))
# Each service of `weed mini` has an http and a gRPC port; the gRPC ones would otherwise be
# http + 10000 (possibly above 65535 for a free port) and the admin's legacy port a fixed one.
PORT_FLAGS = (
    "master.port",
    "master.port.grpc",
    "volume.port",
    "volume.port.grpc",
    "filer.port",
    "filer.port.grpc",
    "s3.port",
    "s3.port.grpc",
    "admin.port",
    "admin.port.grpc",
)


class S3ServerError(RuntimeError):
    """The S3 server could not be started, or answered an S3 call with an error."""


class WeedMissing(S3ServerError):
    """The ``weed`` binary is not built."""


def weed_binary() -> Path:
    """``CODEANATOMY_WEED`` if set, else the binary ``make s3server`` builds."""
    return Path(os.environ.get("CODEANATOMY_WEED") or DEFAULT_WEED)


def _ephemeral_floor() -> int:
    with contextlib.suppress(OSError, ValueError, IndexError):
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    return 32768


def _free_ports(count: int) -> list[int]:
    """``count`` distinct loopback ports free now, below the kernel's ephemeral range (where
    an outgoing connection of any process could take one before weed binds it; weed warns
    about that). Another server may still take one first: :meth:`S3Server.start` retries."""
    rng = random.SystemRandom()
    chosen: list[int] = []
    while len(chosen) < count:
        port = rng.randrange(PORT_LOW, _ephemeral_floor())
        if port in chosen:
            continue
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        chosen.append(port)
    return chosen


def _port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(1.0)
        return s.connect_ex(("127.0.0.1", port)) == 0


def _group_alive(pgid: int) -> bool:
    """Whether any process of the group ``pgid`` still runs (zombies, which an init that does
    not reap may keep, do not count)."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError, ValueError, IndexError):
            # Fields after the command name, which is in parentheses and may hold spaces.
            fields = (entry / "stat").read_text().rpartition(")")[2].split()
            if int(fields[2]) == pgid and fields[0] != "Z":
                return True
    return False


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def _quote(text: str) -> str:
    """SigV4's URI encoding: everything but unreserved characters."""
    return urllib.parse.quote(text, safe="-_.~")


def _sign(key: bytes, message: str) -> bytes:
    return hmac.new(key, message.encode(), hashlib.sha256).digest()


@dataclass
class S3Server:
    """A running S3 server: where it is, who may use it, and (when started here) its process.

    Tests share one server per session: each writes under its own :meth:`new_prefix`.
    """

    endpoint: str
    access_key: str
    secret_key: str
    bucket: str
    region: str = DEFAULT_REGION
    #: The server's process group (its leader's pid); None for a server started elsewhere.
    pgid: int | None = None
    folder: Path | None = None
    ports: dict[str, int] = field(default_factory=dict)
    _process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    # -- what a test uses ----------------------------------------------------------------

    def storage_options(self) -> dict[str, str]:
        """The ``storage_options`` of deltalake (delta-rs / object_store) for this server."""
        # Delta commits need an atomic put-if-absent; SeaweedFS honours If-None-Match/ETags.
        return {**self.env(), "conditional_put": "etag"}

    def env(self) -> dict[str, str]:
        """The same as standard AWS_* environment variables (for a subprocess such as the CLI)."""
        return {
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_ACCESS_KEY_ID": self.access_key,
            "AWS_SECRET_ACCESS_KEY": self.secret_key,
            "AWS_REGION": self.region,
            "AWS_ALLOW_HTTP": "true",
        }

    def uri(self, prefix: str) -> str:
        """``s3://bucket/prefix``."""
        return f"s3://{self.bucket}/{prefix.strip('/')}"

    @staticmethod
    def new_prefix(tag: str) -> str:
        """A prefix no other test uses (``tag`` plus a random suffix), so tests sharing the
        server never see each other's objects."""
        safe = "".join(c if c.isalnum() or c in "-_." else "-" for c in tag).strip("-") or "t"
        return f"{safe[:60]}-{uuid.uuid4().hex[:12]}"

    def list_keys(self, prefix: str = "", *, page_size: int = 1000) -> list[str]:
        """Every object key in the bucket that starts with ``prefix`` (full keys, sorted), by
        ListObjectsV2 calls to the server (``page_size`` keys per call)."""
        keys: list[str] = []
        token = None
        while True:
            query = {"list-type": "2", "prefix": prefix, "max-keys": str(page_size)}
            if token:
                query["continuation-token"] = token
            status, body = self.request("GET", f"/{self.bucket}", query)
            if status != 200:
                raise S3ServerError(f"ListObjectsV2 on {self.bucket!r}: HTTP {status}: {body!r}")
            root = ET.fromstring(body)
            keys += [el.text or "" for el in root.iter(f"{S3_NS}Key")]
            token = root.findtext(f"{S3_NS}NextContinuationToken")
            if root.findtext(f"{S3_NS}IsTruncated") != "true" or not token:
                return sorted(keys)

    def request(
        self, method: str, path: str, query: dict[str, str] | None = None
    ) -> tuple[int, bytes]:
        """One S3 call without a body, signed with AWS Signature Version 4: its HTTP status
        and body (an error status is returned, not raised)."""
        url = urllib.parse.urlsplit(self.endpoint)
        now = datetime.datetime.now(datetime.UTC)
        stamp, day = now.strftime("%Y%m%dT%H%M%SZ"), now.strftime("%Y%m%d")
        canonical_query = "&".join(
            f"{_quote(k)}={_quote(v)}" for k, v in sorted((query or {}).items())
        )
        canonical_path = urllib.parse.quote(path, safe="/-_.~")
        headers = {"host": url.netloc, "x-amz-content-sha256": EMPTY_SHA256, "x-amz-date": stamp}
        signed = ";".join(headers)
        canonical = "\n".join(
            [
                method,
                canonical_path,
                canonical_query,
                "".join(f"{k}:{v}\n" for k, v in headers.items()),
                signed,
                EMPTY_SHA256,
            ]
        )
        scope = f"{day}/{self.region}/s3/aws4_request"
        to_sign = "\n".join(
            ["AWS4-HMAC-SHA256", stamp, scope, hashlib.sha256(canonical.encode()).hexdigest()]
        )
        key = f"AWS4{self.secret_key}".encode()
        for part in (day, self.region, "s3", "aws4_request"):
            key = _sign(key, part)
        signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
        headers["authorization"] = (
            f"AWS4-HMAC-SHA256 Credential={self.access_key}/{scope}, "
            f"SignedHeaders={signed}, Signature={signature}"
        )
        target = f"{self.endpoint}{canonical_path}" + (f"?{canonical_query}" if query else "")
        req = urllib.request.Request(target, method=method, headers=headers)
        try:
            with _DIRECT.open(req, timeout=REQUEST_TIMEOUT_S) as response:
                return int(response.status), response.read()
        except urllib.error.HTTPError as error:
            return int(error.code), error.read()

    # -- life cycle ------------------------------------------------------------------------

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> S3Server | None:
        """The already running server the ``CODEANATOMY_TEST_S3_*`` variables name (as .ci/run
        sets them), or None if ``CODEANATOMY_TEST_S3_ENDPOINT`` is unset."""
        environ = dict(os.environ if environ is None else environ)
        endpoint = environ.get(ENV_ENDPOINT, "")
        if not endpoint:
            return None
        missing = [v for v in (ENV_ACCESS_KEY, ENV_SECRET_KEY, ENV_BUCKET) if not environ.get(v)]
        if missing:
            raise S3ServerError(f"{ENV_ENDPOINT} is set but {', '.join(missing)} are not")
        return cls(
            endpoint=endpoint.rstrip("/"),
            access_key=environ[ENV_ACCESS_KEY],
            secret_key=environ[ENV_SECRET_KEY],
            bucket=environ[ENV_BUCKET],
            region=environ.get(ENV_REGION) or DEFAULT_REGION,
        )

    def variables(self) -> dict[str, str]:
        """The ``CODEANATOMY_TEST_S3_*`` variables that make :meth:`from_env` find this server."""
        return {
            ENV_ENDPOINT: self.endpoint,
            ENV_ACCESS_KEY: self.access_key,
            ENV_SECRET_KEY: self.secret_key,
            ENV_BUCKET: self.bucket,
            ENV_REGION: self.region,
        }

    @classmethod
    def start(
        cls,
        folder: Path,
        *,
        bucket: str = DEFAULT_BUCKET,
        binary: Path | None = None,
        limit_s: float = START_LIMIT_S,
        attempts: int = 3,
    ) -> S3Server:
        """Start ``weed mini`` with its data, config and logs in ``folder`` (created if absent)
        and return once the bucket answers a signed ListObjectsV2. A start that loses a port
        to another process (chosen free, taken before weed bound it: weed exits) is retried on new
        ports.

        Raises :class:`WeedMissing` if the binary is not built, :class:`S3ServerError` (with
        the tail of the server's log) if it does not serve within ``limit_s``."""
        binary = binary or weed_binary()
        if not (binary.is_file() and os.access(binary, os.X_OK)):
            raise WeedMissing(f"no SeaweedFS binary at {binary}: {BUILD_HINT}")
        folder = Path(folder).resolve()
        (folder / "data").mkdir(parents=True, exist_ok=True)
        (folder / "logs").mkdir(exist_ok=True)
        access_key = "CA" + secrets.token_hex(9).upper()
        secret_key = secrets.token_urlsafe(30)
        config = folder / "s3.json"
        identity = {
            "name": "codeanatomy-test",
            "credentials": [{"accessKey": access_key, "secretKey": secret_key}],
            "actions": ["Admin", "Read", "List", "Tagging", "Write"],
        }
        config.write_text(json.dumps({"identities": [identity]}))
        config.chmod(0o600)
        for attempt in range(1, attempts + 1):
            ports = dict(zip(PORT_FLAGS, _free_ports(len(PORT_FLAGS)), strict=True))
            server = cls(
                endpoint=f"http://127.0.0.1:{ports['s3.port']}",
                access_key=access_key,
                secret_key=secret_key,
                bucket=bucket,
                folder=folder,
                ports=ports,
            )
            server._launch(binary, config)
            try:
                server.wait_until_serving(limit_s)
                return server
            except S3ServerError:
                # weed exits at once when a port it was given is taken; a server that never
                # answered within the limit is not retried.
                exited = server._process is not None and server._process.poll() is not None
                server.stop()
                if not exited or attempt == attempts:
                    raise
        raise AssertionError("unreachable")

    def _launch(self, binary: Path, config: Path) -> None:
        assert self.folder is not None
        args = [
            str(binary),
            f"-logdir={self.folder / 'logs'}",
            "mini",
            f"-dir={self.folder / 'data'}",
            "-ip=127.0.0.1",
            "-ip.bind=127.0.0.1",
            f"-s3.config={config}",
            f"-bucket={self.bucket}",
            *(f"-{flag}={port}" for flag, port in self.ports.items()),
            "-admin.ui=false",
            "-admin.port.legacy=0",
            "-webdav=false",
            "-s3.port.iceberg=0",
            "-s3.port.lance=0",
            "-master.telemetry=false",
            "-master.volumeSizeLimitMB=64",  # the tables are small; preallocation is off
        ]
        with (self.folder / "weed.log").open("ab") as log:
            log.write(f"$ {shlex.join(args)}\n".encode())
            log.flush()
            self._process = subprocess.Popen(
                args,
                cwd=self.folder,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: stopped alone
            )
        self.pgid = self._process.pid

    def wait_until_serving(self, limit_s: float) -> None:
        """Return once the bucket answers a signed ListObjectsV2; :class:`S3ServerError` (with
        the tail of the server's log, if started here) otherwise."""
        deadline = time.monotonic() + limit_s
        last = "no answer yet"
        while time.monotonic() < deadline:
            if self._process is not None and self._process.poll() is not None:
                raise S3ServerError(
                    f"weed mini exited with {self._process.returncode} before serving S3 "
                    f"at {self.endpoint}; the end of {self.folder}/weed.log:\n{self.log_tail()}"
                )
            try:
                status, body = self.request(
                    "GET", f"/{self.bucket}", {"list-type": "2", "max-keys": "1"}
                )
            except OSError as error:  # refused, reset, timed out: not serving yet
                last = repr(error)
            else:
                if status == 200:
                    return
                last = f"HTTP {status}: {body[:300]!r}"
            time.sleep(0.2)
        raise S3ServerError(
            f"weed mini did not serve bucket {self.bucket!r} at {self.endpoint} within "
            f"{limit_s:.0f} s (last answer: {last}); the end of {self.folder}/weed.log:\n"
            f"{self.log_tail()}"
        )

    def log_tail(self, lines: int = LOG_TAIL_LINES) -> str:
        """The last ``lines`` lines the server wrote to its stdout and stderr."""
        if self.folder is None:
            return ""
        with contextlib.suppress(OSError):
            text = (self.folder / "weed.log").read_text(errors="replace")
            return "\n".join(text.splitlines()[-lines:])
        return ""

    def stop(self, grace_s: float = STOP_GRACE_S) -> None:
        """SIGTERM to the server's process group, SIGKILL to it after ``grace_s``; returns
        once no process of the group runs. A no-op for a server started elsewhere."""
        if self.pgid is None:
            return
        _signal_group(self.pgid, signal.SIGTERM)
        deadline = time.monotonic() + grace_s
        while _group_alive(self.pgid) and time.monotonic() < deadline:
            time.sleep(0.05)
        if _group_alive(self.pgid):
            _signal_group(self.pgid, signal.SIGKILL)
            deadline = time.monotonic() + grace_s
            while _group_alive(self.pgid) and time.monotonic() < deadline:
                time.sleep(0.05)
        if self._process is not None:
            self._process.wait(timeout=grace_s)
        if _group_alive(self.pgid):
            raise S3ServerError(f"the S3 server's process group {self.pgid} survived SIGKILL")
        # weed mini also listens on Unix sockets named by its ports, which it removes on
        # SIGTERM but not when killed.
        for flag, port in self.ports.items():
            service, grpc = flag.split(".")[0], "-grpc" if flag.endswith(".grpc") else ""
            Path(f"/tmp/seaweedfs-{service}{grpc}-{port}.sock").unlink(missing_ok=True)
        self.pgid = None

    def __enter__(self) -> S3Server:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def missing_weed(error: WeedMissing, environ: dict[str, str] | None = None) -> NoReturn:
    """What a test needing the server does when the binary is not built: fail on CI (``CI``
    set, where ``make test`` builds it), skip elsewhere."""
    import pytest  # only here: the rest of this module runs without the test environment

    environ = dict(os.environ if environ is None else environ)
    if environ.get("CI"):
        pytest.fail(f"CI is set and the S3 test server is missing: {error}", pytrace=False)
    pytest.skip(str(error))


# -- a server for a whole test run (.ci/run) ------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    """``start DIR``: start a server in DIR, leave it running, print ``export`` lines of the
    ``CODEANATOMY_TEST_S3_*`` variables; ``stop DIR``: stop that server. Exit 2 on bad use,
    1 if the server cannot be started or stopped."""
    parser = argparse.ArgumentParser(prog="python -m tests.s3_server", description=main.__doc__)
    parser.add_argument("action", choices=["start", "stop"])
    parser.add_argument("folder", type=Path)
    args = parser.parse_args(argv)
    state = args.folder / "server.json"
    try:
        if args.action == "start":
            server = S3Server.start(args.folder)
            server._process = None  # outlives this process; stop finds it by its group
            state.write_text(json.dumps({"pgid": server.pgid, "ports": server.ports}))
            for name, value in server.variables().items():
                print(f"export {name}={shlex.quote(value)}")
            return 0
        if not state.is_file():
            print(f"no S3 server state in {state}", file=sys.stderr)
            return 2
        saved = json.loads(state.read_text())
        S3Server(
            "", "", "", "", pgid=saved["pgid"], folder=args.folder, ports=saved["ports"]
        ).stop()
        state.unlink()
        return 0
    except S3ServerError as error:
        print(f"s3 server: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
