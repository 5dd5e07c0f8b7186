"""Object storage (issue 16): runs, reports and the parity history at ``s3://`` URIs.

Where a command takes an output folder, a run or the parity history, it also takes an object-store
URI. Credentials and endpoints come from the standard environment variables (``AWS_ACCESS_KEY_ID``,
``AWS_SECRET_ACCESS_KEY``, ``AWS_SESSION_TOKEN``, ``AWS_REGION``, ``AWS_ENDPOINT_URL``,
``AWS_ALLOW_HTTP``) overlaid by ``[storage] storage_options`` of the configuration, whose values
may name an environment variable as ``${NAME}`` so that no secret needs to sit in a committed
file. The effective options are given explicitly to every reader and writer (delta-rs in Python
and in the Rust engine, and pyarrow's S3 filesystem for plain files), so all agree.

How a run gets to a bucket: the run is built in a local staging folder (one per run URI, under
the codeanatomy cache) which is first brought up to date from the bucket (:func:`pull`), so an
incremental build on a new machine starts from the bucket's state; afterwards it is published
(:func:`push`): the tables' data files first, then each table's ``_delta_log`` in commit order,
then ``run.json`` last. A reader that follows ``run.json`` (every command of ours) therefore sees
the previous run or the new one, never a table half written: a writer killed mid-publish leaves
only data files no Delta log names yet, and an older ``run.json``. The manifest names its tables
relative to the run root (``path``); its absolute ``uri`` fields are rewritten to the bucket's.

Secrets never leave this module in text: :func:`redact` scrubs every option value that is a
credential out of a message, and errors name the URI and the store's reason only.
"""

from __future__ import annotations

import hashlib
import os
import posixpath
import re
import shutil
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import urlsplit

from harness.errors import UsageError

if TYPE_CHECKING:
    from pyarrow.fs import S3FileSystem

STORAGE_AUTH: Final = "STORAGE_AUTH"
STORAGE_UNREACHABLE: Final = "STORAGE_UNREACHABLE"
STORAGE_BUCKET_MISSING: Final = "STORAGE_BUCKET_MISSING"
STORAGE_OPTIONS_INVALID: Final = "STORAGE_OPTIONS_INVALID"
STORAGE_SCHEME_UNSUPPORTED: Final = "STORAGE_SCHEME_UNSUPPORTED"

STORAGE_CODES: Final[dict[str, str]] = {
    STORAGE_AUTH: "the object store refused the credentials",
    STORAGE_UNREACHABLE: "the object store's endpoint did not answer",
    STORAGE_BUCKET_MISSING: "the bucket of the URI does not exist",
    STORAGE_OPTIONS_INVALID: "a storage option is malformed or names an unset variable",
    STORAGE_SCHEME_UNSUPPORTED: "an object-store scheme other than s3:// (not tested here)",
}

SCHEMES: Final = ("s3", "s3a")
"""The object-store schemes a run, a report folder or the history may use (tested against a
real S3 server); delta-rs's other schemes (gs, az, abfss) are refused with a clear code."""

_URI = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]+)://")
_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")

# The standard environment variables, by the option key delta-rs gives them.
_ENV_KEYS: Final = (
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_S3",
    "AWS_ALLOW_HTTP",
)
# Option keys (normalized: lower case, no "aws_" prefix) whose values are secrets.
_SECRET_KEYS: Final = frozenset(
    {"access_key_id", "secret_access_key", "session_token", "token", "access_key", "secret_key"}
)

RUN_MANIFEST: Final = "run.json"


def is_uri(value: str | Path) -> bool:
    """Whether ``value`` names an object-store location (``s3://...``); ``file://`` is local."""
    match = _URI.match(str(value))
    return match is not None and match.group(1).lower() != "file"


def _norm(key: str) -> str:
    key = key.lower()
    return key[4:] if key.startswith("aws_") else key


def expand(options: Mapping[str, str], env: Mapping[str, str]) -> dict[str, str]:
    """``options`` with each ``${NAME}`` replaced by the environment variable's value."""
    out: dict[str, str] = {}
    for key, value in options.items():

        def sub(match: re.Match[str], key: str = key) -> str:
            name = match.group(1)
            if name not in env:
                raise UsageError(
                    STORAGE_OPTIONS_INVALID,
                    f"[storage] storage_options.{key} names ${{{name}}}, which is not set",
                )
            return env[name]

        out[key] = _VAR.sub(sub, str(value))
    return out


def effective_options(
    configured: Mapping[str, str] | None = None, env: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The storage options every reader and writer gets: the standard ``AWS_*`` environment
    variables, overlaid by the configured ``[storage] storage_options`` (expanded)."""
    environ = os.environ if env is None else env
    options = {key: environ[key] for key in _ENV_KEYS if environ.get(key)}
    given = expand(configured or {}, environ)
    normalized = {_norm(k) for k in given}
    # A configured key replaces the environment's spelling of the same option.
    options = {k: v for k, v in options.items() if _norm(k) not in normalized}
    options.update(given)
    keys = {_norm(k) for k in options}
    endpoint = _get(options, "endpoint_url", "endpoint", "endpoint_url_s3") or ""
    if endpoint.startswith("http://") and "allow_http" not in keys:
        options["AWS_ALLOW_HTTP"] = "true"  # the user named a plain-HTTP endpoint
    if not keys & {"conditional_put", "s3_locking_provider", "s3_allow_unsafe_rename"}:
        # Safe concurrent commits (several writers of the parity history): the log entry of
        # a version is put only if absent (S3 conditional put), so two writers never both win.
        options["conditional_put"] = "etag"
    return options


def secrets(options: Mapping[str, str]) -> list[str]:
    """The credential values among ``options`` (longest first, so redaction is greedy)."""
    found = {v for k, v in options.items() if _norm(k) in _SECRET_KEYS and v}
    for key in ("AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_ACCESS_KEY_ID"):
        if os.environ.get(key):
            found.add(os.environ[key])
    return sorted(found, key=len, reverse=True)


def shown_options(options: Mapping[str, str]) -> dict[str, str]:
    """``options`` as ``config show`` prints them: a credential written in the file is hidden;
    a ``${NAME}`` reference is shown as written (it holds no secret)."""
    return {
        k: v if _norm(k) not in _SECRET_KEYS or _VAR.fullmatch(v) else "***"
        for k, v in options.items()
    }


def redact(text: str, options: Mapping[str, str]) -> str:
    """``text`` with every credential of ``options`` (and of the environment) replaced."""
    for secret in secrets(options):
        text = text.replace(secret, "***")
    return text


def _get(options: Mapping[str, str], *keys: str) -> str | None:
    wanted = set(keys)
    for key, value in options.items():
        if _norm(key) in wanted:
            return value
    return None


def split_uri(uri: str) -> tuple[str, str, str]:
    """``(scheme, bucket, key prefix)`` of ``s3://bucket/prefix`` (prefix without slashes at
    either end); refuses other schemes."""
    parts = urlsplit(uri)
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES:
        raise UsageError(
            STORAGE_SCHEME_UNSUPPORTED,
            f"{uri}: {scheme}:// is not supported; codeanatomy reads and writes s3:// "
            "(any S3-compatible store, endpoint from AWS_ENDPOINT_URL or [storage])",
        )
    if not parts.netloc:
        raise UsageError(STORAGE_OPTIONS_INVALID, f"{uri}: no bucket named")
    return scheme, parts.netloc, parts.path.strip("/")


def filesystem(options: Mapping[str, str]) -> S3FileSystem:
    """pyarrow's S3 filesystem for ``options`` (the same keys delta-rs takes)."""
    from pyarrow.fs import AwsStandardS3RetryStrategy, S3FileSystem

    kwargs: dict[str, Any] = {
        "access_key": _get(options, "access_key_id", "access_key"),
        "secret_key": _get(options, "secret_access_key", "secret_key"),
        "session_token": _get(options, "session_token", "token"),
        "region": _get(options, "region", "default_region") or "us-east-1",
        "connect_timeout": 5,
        "request_timeout": 30,
        "retry_strategy": AwsStandardS3RetryStrategy(max_attempts=2),
    }
    endpoint = _get(options, "endpoint_url", "endpoint", "endpoint_url_s3")
    if endpoint:
        parts = urlsplit(endpoint)
        kwargs["endpoint_override"] = parts.netloc or parts.path
        kwargs["scheme"] = parts.scheme or "https"
    if kwargs["access_key"] is None:
        kwargs.pop("access_key")
        kwargs.pop("secret_key")
        kwargs.pop("session_token")
    return S3FileSystem(**kwargs)


def storage_error(uri: str, exc: BaseException, options: Mapping[str, str]) -> UsageError:
    """The user error (exit 2) of a failed store request: refused credentials, an endpoint
    that does not answer, or a missing bucket; the store's reason is kept, secrets are not."""
    text = redact(str(exc), options)
    lower = text.lower()
    if any(
        word in lower
        for word in (
            "access_denied",
            "accessdenied",
            "invalidaccesskeyid",
            "invalid_access_key",
            "signature",
            "forbidden",
            "403",
            "unauthorized",
            "credential",
        )
    ):
        code, what = STORAGE_AUTH, "the object store refused the credentials"
    elif "nosuchbucket" in lower or "no_such_bucket" in lower or "bucket does not exist" in lower:
        code, what = STORAGE_BUCKET_MISSING, "the bucket does not exist"
    else:
        code, what = STORAGE_UNREACHABLE, "the object store could not be reached"
    reason = " ".join(text.split())[:400]
    return UsageError(
        code,
        f"{uri}: {what} ({reason}); set AWS_ENDPOINT_URL / AWS_ACCESS_KEY_ID / "
        "AWS_SECRET_ACCESS_KEY or [storage] storage_options",
    )


def has_credentials(options: Mapping[str, str], env: Mapping[str, str] | None = None) -> bool:
    """Whether some credentials are at hand: keys in the options, or a profile, web identity or
    container credentials named by the environment, or an AWS credentials file. Without any,
    a request would wander through cloud metadata endpoints before failing."""
    environ = os.environ if env is None else env
    if _get(options, "access_key_id", "access_key"):
        return True
    if any(
        environ.get(k)
        for k in (
            "AWS_PROFILE",
            "AWS_WEB_IDENTITY_TOKEN_FILE",
            "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
            "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        )
    ):
        return True
    credentials = environ.get("AWS_SHARED_CREDENTIALS_FILE") or str(
        Path.home() / ".aws" / "credentials"
    )
    return Path(credentials).is_file()


def check_access(uri: str, options: Mapping[str, str]) -> None:
    """Refuse (exit 2) a location the store does not let us list, before any work starts."""
    from pyarrow.fs import FileSelector

    _scheme, bucket, prefix = split_uri(uri)
    if not has_credentials(options):
        raise UsageError(
            STORAGE_AUTH,
            f"{uri}: no credentials for the object store; set AWS_ACCESS_KEY_ID and "
            "AWS_SECRET_ACCESS_KEY (or AWS_PROFILE), or [storage] storage_options",
        )
    try:
        fs = filesystem(options)
        fs.get_file_info(FileSelector(f"{bucket}/{prefix}".rstrip("/"), allow_not_found=True))
    except (OSError, ValueError) as exc:
        raise storage_error(uri, exc, options) from None


def list_files(uri: str, options: Mapping[str, str]) -> dict[str, int]:
    """Every object below ``uri``: its key relative to ``uri`` and its size."""
    from pyarrow.fs import FileSelector, FileType

    _scheme, bucket, prefix = split_uri(uri)
    base = f"{bucket}/{prefix}".rstrip("/")
    try:
        infos = filesystem(options).get_file_info(
            FileSelector(base, recursive=True, allow_not_found=True)
        )
    except (OSError, ValueError) as exc:
        raise storage_error(uri, exc, options) from None
    return {
        info.path[len(base) + 1 :]: int(info.size or 0)
        for info in infos
        if info.type == FileType.File
    }


def _local_files(root: Path) -> dict[str, int]:
    """Every regular file below ``root`` and its size; symbolic links are never followed nor
    published (the scip scratch folder links the node binary, 96 MB)."""
    found: dict[str, int] = {}
    if not root.is_dir():
        return found
    for folder, dirs, files in os.walk(root, followlinks=False):
        dirs.sort()
        for name in sorted(files):
            path = Path(folder, name)
            if not path.is_symlink() and path.is_file():
                found[path.relative_to(root).as_posix()] = path.stat().st_size
    return found


def _mutable(rel: str) -> bool:
    """Whether a file of a run folder may be rewritten in place. Delta log entries and Delta
    data files (``part-*.parquet``) are immutable once written, so a copy with the same name and
    size is the same file; everything else (``run.json``, ``_last_checkpoint``, reports,
    cursors) is sent again."""
    name = rel.rsplit("/", 1)[-1]
    if name == "_last_checkpoint":
        return True
    if "/_delta_log/" in f"/{rel}":
        return False
    return not (name.startswith("part-") and name.endswith(".parquet"))


# Text files whose local staging path is replaced by the run's URI when published.
_REWRITTEN: Final = (".json", ".md", ".html", ".xml")


def _publish_order(rel: str) -> tuple[int, str]:
    """Data files first, then Delta logs (in commit order), then manifests last."""
    name = rel.rsplit("/", 1)[-1]
    if name == RUN_MANIFEST:
        return (3, rel)
    if "/_delta_log/" in f"/{rel}":
        return (2 if name == "_last_checkpoint" else 1, rel)
    return (0, rel)


# Local-only parts of a run folder that never go to the bucket: the folder's lock, the
# boundary's write probe, and extraction's scratch (``work/``: scip-python's index and logs).
# The output's lock table in the bucket (harness/bucket_lock.py, ``_codeanatomy_lock``, at any
# depth: a suite's runs have their own) is neither pulled into a staging folder nor published.
_LOCAL_ONLY = re.compile(
    r"(^|/)(\.codeanatomy[-.]lock|\.codeanatomy-probe[^/]*|__pycache__|_codeanatomy_lock)(/|$)"
    r"|(^|/)work/scip/"
)


PUT_THREADS: Final = 8
"""Uploads in flight at once within one publishing phase (each is one small PUT)."""


class _Remote:
    """One listing of the objects below a URI, and the store to read and write them: what
    :func:`push` and :func:`pull` both start from."""

    def __init__(self, uri: str, options: Mapping[str, str]) -> None:
        _scheme, self.bucket, self.prefix = split_uri(uri)
        self.uri = uri.rstrip("/")
        self.files = list_files(uri, options)
        self.fs = filesystem(options)

    def key(self, rel: str) -> str:
        """The store's key of the object at ``rel`` below the URI."""
        return _key(self.bucket, self.prefix, rel)


def _key(bucket: str, prefix: str, rel: str) -> str:
    return f"{bucket}/{prefix}/{rel}" if prefix else f"{bucket}/{rel}"


_PULLED: dict[tuple[str, str], tuple[int, int, int]] = {}
"""The local copies :func:`pull` wrote in this process: (object key, local path) to the copy's
(size, mtime_ns, inode) right after it was written. A copy still so is the object, unchanged:
:func:`push` does not send it back (it could only overwrite a fresher object with a stale
one, e.g. a run a Ray task published since: harness/gates/executor.py)."""


def _identity(path: Path) -> tuple[int, int, int]:
    st = path.stat()
    return (st.st_size, st.st_mtime_ns, st.st_ino)


def _unchanged_since_pulled(key: str, path: Path) -> bool:
    record = _PULLED.get((key, str(path.absolute())))
    return record is not None and record == _identity(path)


def push(local: Path, uri: str, options: Mapping[str, str]) -> int:
    """Publish the run folder ``local`` to ``uri`` (order: see the module docstring); return
    how many files were uploaded. Delta data and log files are immutable: a file already in the
    bucket with the same size is not sent again. A file this process pulled from that very
    object and has not changed since is not sent either (:data:`_PULLED`).

    Each phase (data, logs, checkpoints pointers, manifests) ends before the next starts; within
    a phase uploads run on :data:`PUT_THREADS` threads, except that one table's log entries are
    put one after the other, in commit order."""
    from concurrent.futures import ThreadPoolExecutor

    remote = _Remote(uri, options)

    def put(rel: str) -> None:
        data = (local / rel).read_bytes()
        if _mutable(rel) and rel.endswith(_REWRITTEN):
            # run.json's absolute ``uri`` fields and the reports name the bucket, not the
            # staging folder (tables are found by their relative ``path``).
            data = data.replace(os.fsencode(str(local)), remote.uri.encode())
        with remote.fs.open_output_stream(remote.key(rel)) as stream:
            stream.write(data)

    def put_in_order(rels: list[str]) -> None:
        for rel in rels:
            put(rel)

    phases: dict[int, dict[str, list[str]]] = {}
    for rel, size in sorted(_local_files(local).items(), key=lambda kv: _publish_order(kv[0])):
        if _LOCAL_ONLY.search(rel) or (remote.files.get(rel) == size and not _mutable(rel)):
            continue
        if rel in remote.files and _unchanged_since_pulled(remote.key(rel), local / rel):
            continue
        phase = _publish_order(rel)[0]
        # A table's log entries share one lane (in commit order); other files have their own.
        lane = rel.rsplit("/_delta_log/", 1)[0] if phase == 1 else rel
        phases.setdefault(phase, {}).setdefault(lane, []).append(rel)
    sent = 0
    with ThreadPoolExecutor(PUT_THREADS) as pool:
        for phase in sorted(phases):
            lanes = list(phases[phase].values())
            try:
                list(pool.map(put_in_order, lanes))
            except (OSError, ValueError) as exc:
                raise storage_error(uri, exc, options) from None
            sent += sum(len(lane) for lane in lanes)
    return sent


def pull(
    uri: str, local: Path, options: Mapping[str, str], only: Sequence[str] | None = None
) -> int:
    """Bring the local folder ``local`` up to date with the objects below ``uri`` (files not
    in the bucket are left alone); return how many files were downloaded. ``only``: the
    objects at or below these relative paths, none else (``""`` is everything)."""
    remote = _Remote(uri, options)
    have = _local_files(local)
    got = 0
    for rel, size in sorted(remote.files.items()):
        if only is not None and not any(_below(rel, folder) for folder in only):
            continue
        if _LOCAL_ONLY.search(rel):
            continue  # the bucket's lock tables, or a local-only file an older version sent
        if have.get(rel) == size and not _mutable(rel):
            continue
        key = remote.key(rel)
        try:
            with remote.fs.open_input_stream(key) as stream:
                data = stream.read()
        except (OSError, ValueError) as exc:
            raise storage_error(uri, exc, options) from None
        if rel == RUN_MANIFEST or rel.endswith(f"/{RUN_MANIFEST}"):
            data = data.replace(remote.uri.encode(), os.fsencode(str(local)))
        target = local / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(target.name + ".part")
        tmp.write_bytes(data)
        tmp.replace(target)
        _PULLED[(key, str(target.absolute()))] = _identity(target)
        got += 1
    return got


def _below(rel: str, folder: str) -> bool:
    return not folder or rel == folder or rel.startswith(f"{folder.rstrip('/')}/")


def staging_root() -> Path:
    """Where runs bound for a bucket are staged (``$CODEANATOMY_CACHE/remote`` or the user's
    cache folder)."""
    base = os.environ.get("CODEANATOMY_CACHE")
    root = Path(base) if base else Path.home() / ".cache" / "codeanatomy"
    return root / "remote"


def staging_dir(uri: str) -> Path:
    """The local staging folder of one run URI (stable, so incremental builds reuse it)."""
    digest = hashlib.sha256(uri.rstrip("/").encode()).hexdigest()[:16]
    return staging_root() / digest


@contextmanager
def staged_in(run: str | Path, options: Mapping[str, str]) -> Iterator[Path]:
    """A run to read: a local path as given; an object-store URI downloaded into a fresh
    temporary folder (removed afterwards)."""
    import tempfile

    if not is_uri(run):
        yield Path(run)
        return
    uri = str(run).rstrip("/")
    check_access(uri, options)
    folder = Path(tempfile.mkdtemp(prefix="codeanatomy-run-"))
    try:
        local = folder / "run"
        local.mkdir()
        pull(uri, local, options)
        outside = _tables_outside(local)
        if outside:
            # A side of a shadow run reads the shared evidence beside it (``../evidence/``):
            # fetch those tables too, at the same relative place.
            depth = max(rel.count("../") for rel in outside)
            nested = folder.joinpath(*(["up"] * depth), "run")
            nested.parent.mkdir(parents=True, exist_ok=True)
            local = local.rename(nested)
            # One listing and pull of their common parent, filtered to those tables.
            scheme, bucket, prefix = split_uri(uri)
            here = posixpath.join("/", bucket, prefix)
            tables = [posixpath.normpath(posixpath.join(here, rel)) for rel in outside]
            parent = posixpath.commonpath([posixpath.dirname(t) for t in tables])
            target = Path(
                posixpath.normpath(
                    posixpath.join(nested.as_posix(), posixpath.relpath(parent, here))
                )
            )
            target.mkdir(parents=True, exist_ok=True)
            wanted = [posixpath.relpath(t, parent) for t in tables]
            pull(f"{scheme}://{parent.lstrip('/')}", target, options, only=wanted)
        yield local
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _tables_outside(run: Path) -> list[str]:
    """The relative paths (``../...``) of the tables a downloaded run.json names outside its
    own folder."""
    import json

    manifest = run / RUN_MANIFEST
    if not manifest.is_file():
        return []
    try:
        raw = json.loads(manifest.read_text(encoding="utf-8"))
    except ValueError:
        return []  # the command that reads it reports the damage
    entries = [*raw.get("inputs", []), *raw.get("outputs", [])]
    return sorted(
        {
            e["path"]
            for e in entries
            if isinstance(e.get("path"), str) and e["path"].startswith("../")
        }
    )


def delta_location(value: str | Path) -> str:
    """The text delta-rs takes for a table location (a URI as given, a path absolute)."""
    return str(value).rstrip("/") if is_uri(value) else str(Path(value).absolute())


def delta_exists(location: str | Path, options: Mapping[str, str]) -> bool:
    """Whether a Delta table exists at ``location`` (a local path or a URI)."""
    if not is_uri(location):
        return (Path(location) / "_delta_log").is_dir()
    listed = list_files(f"{str(location).rstrip('/')}/_delta_log", options)
    return any(name.endswith(".json") for name in listed)


def append_racing(write: Callable[[], None], attempts: int, pause_s: tuple[float, float]) -> None:
    """Run ``write`` (one Delta append) until it commits, at most ``attempts`` times.

    Writers that create a table at once race for its version 0: the losers' commit does not
    land (delta-rs ``CommitFailedError``, "Metadata changed since last commit") and they append
    to the table the winner made, after a jittered pause (``pause_s`` bounds, times the attempt
    number). delta-rs itself retries a blind append against later versions."""
    import random
    import time

    from deltalake.exceptions import CommitFailedError

    for attempt in range(1, attempts + 1):
        try:
            write()
            return
        except CommitFailedError:
            if attempt == attempts:
                raise
            time.sleep(random.uniform(*pause_s) * attempt)
