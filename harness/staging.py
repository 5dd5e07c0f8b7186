"""Object-store outputs written through a local staging folder (harness/storage.py moves the
files; harness/bucket_lock.py keeps one writer per URI across machines): :func:`staged_out`
and :func:`remote_of`. A module of its own so that the lock, which reads the bucket through
harness.storage, and the staging, which takes the lock, do not import each other."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, nullcontext
from pathlib import Path

from harness.bucket_lock import hold
from harness.storage import check_access, pull, push, staging_dir


@contextmanager
def staged_out(
    out: str | Path,
    options: Mapping[str, str],
    *,
    tell: Callable[[str], None] | None = None,
    command: str | None = None,
    lock: bool = True,
) -> Iterator[Path]:
    """The local folder of the object-store output ``out``: the
    location is checked, staged locally (pulled from the bucket) and published when the
    block ends normally (a ``typer.Exit``/``SystemExit`` of a finished command counts as
    normal: a failed build's run folder is evidence too). An interrupt publishes nothing.

    One writer per URI across machines: the bucket's lock of ``out``
    (harness/bucket_lock.py) is taken before the pull and released after the publish, also
    when the block fails or is interrupted (best effort: a killed process leaves it to expire
    at the end of its lease). A URI another run holds is refused at once: ``OUT_BUSY``, exit 2,
    naming the holder (host, pid, ``command``, since when; ``command`` defaults to this
    process's command line). No lock is taken for a URI at or below one a block of this process
    holds already (a suite's task run in process, a suite of one repository whose run is OUT
    itself), nor with ``lock=False``: for a process working for a holder elsewhere (a Ray task
    of a driver that holds OUT)."""
    uri = str(out).rstrip("/")
    check_access(uri, options)
    held_here = any(uri == u or uri.startswith(f"{u}/") for u, _ in _STAGED.values())
    guard = hold(uri, options, command) if lock and not held_here else nullcontext()
    with guard, _staged(uri, options, tell) as local:
        yield local


@contextmanager
def _staged(
    uri: str, options: Mapping[str, str], tell: Callable[[str], None] | None
) -> Iterator[Path]:
    local = staging_dir(uri)
    local.mkdir(parents=True, exist_ok=True)
    got = pull(uri, local, options)
    if tell is not None and got:
        tell(f"{uri}: {got} files brought up to date in the staging folder {local}")

    def publish() -> None:
        sent = push(local, uri, options)
        if tell is not None:
            tell(f"published to {uri}: {sent} files (staged in {local})")

    key = local.resolve()
    outer = _STAGED.get(key)  # the same URI staged by an enclosing block of this process
    _STAGED[key] = (uri, dict(options))
    try:
        try:
            yield local
        except (SystemExit, Exception):
            publish()
            raise
        publish()
    finally:
        if outer is None:
            _STAGED.pop(key, None)
        else:
            _STAGED[key] = outer


_STAGED: dict[Path, tuple[str, dict[str, str]]] = {}
"""The staging folders of the :func:`staged_out` blocks open in this process: their URIs and
storage options."""


def remote_of(folder: str | Path) -> tuple[str, dict[str, str]] | None:
    """Where ``folder`` is published to, when it is (inside) the staging folder of a
    :func:`staged_out` block open in this process: its object-store URI and the block's
    storage options. None for any other folder (a local output)."""
    path = Path(folder).resolve()
    for local, (uri, options) in _STAGED.items():
        if path == local or local in path.parents:
            rel = path.relative_to(local).as_posix()
            return (uri if rel == "." else f"{uri}/{rel}", options)
    return None
