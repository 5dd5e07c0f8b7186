"""Fetching the pinned sdists and building the standard library corpus.

Downloads go through an injectable ``Download`` function (tests pass a fake); every archive is
verified against its pinned SHA-256 before it is unpacked, a verified archive already in the
cache is never downloaded again, and unpacking refuses members that would land outside the
destination.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
import sysconfig
import tarfile
import tempfile
import urllib.request
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from harness.golden.manifest import CorpusEntry, Manifest, SdistEntry, load_manifest

Download = Callable[[str, Path], None]
"""Writes the bytes found at a URL into a file (which it creates or truncates)."""

_CHUNK = 1 << 16
_TIMEOUT_S = 60.0
_CORPUS_MARKER = ".corpus.json"


class GoldenFetchError(RuntimeError):
    """A golden artifact could not be fetched, verified or unpacked."""


class SdistHashMismatch(GoldenFetchError):
    """A downloaded archive does not have its pinned SHA-256 (the bad file has been deleted)."""

    def __init__(self, filename: str, expected: str, actual: str) -> None:
        super().__init__(
            f"sha256 mismatch for {filename}: expected {expected}, got {actual}; "
            "the download was deleted"
        )
        self.filename = filename
        self.expected = expected
        self.actual = actual


class UnsafeArchive(GoldenFetchError):
    """An archive member would be written outside the destination folder."""


@dataclass(frozen=True)
class FetchedSdist:
    """One verified and unpacked sdist."""

    name: str
    version: str
    archive: Path
    source_root: Path
    sha256: str
    downloaded: bool


def urllib_download(url: str, dest: Path) -> None:
    """The default ``Download``: stream ``url`` into ``dest`` with urllib."""
    with urllib.request.urlopen(url, timeout=_TIMEOUT_S) as response, dest.open("wb") as out:
        shutil.copyfileobj(response, out, _CHUNK)


def default_cache_dir() -> Path:
    """``$CODEANATOMY_CACHE/golden`` if that variable is set, else ``~/.cache/codeanatomy/golden``.

    The ``golden`` subfolder keeps the sdists apart from other caches kept under the same root.
    """
    base = os.environ.get("CODEANATOMY_CACHE")
    root = Path(base) if base else Path.home() / ".cache" / "codeanatomy"
    return root / "golden"


def sha256_of(path: Path) -> str:
    """Hex SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def fetch_sdists(
    manifest: Manifest | None = None,
    cache_dir: Path | None = None,
    *,
    opener: Download = urllib_download,
) -> list[FetchedSdist]:
    """Download (unless cached and verified), verify and unpack every pinned sdist.

    Each archive is kept at ``cache_dir/downloads/<filename>`` and unpacked to
    ``cache_dir/<name>-<version>/``, which is the returned source root.
    """
    manifest = load_manifest() if manifest is None else manifest
    cache_dir = default_cache_dir() if cache_dir is None else cache_dir
    return [fetch_sdist(entry, cache_dir, opener=opener) for entry in manifest.sdist]


def fetch_sdist(entry: SdistEntry, cache_dir: Path, *, opener: Download) -> FetchedSdist:
    """Fetch, verify and unpack one sdist (see ``fetch_sdists``)."""
    downloads = cache_dir / "downloads"
    downloads.mkdir(parents=True, exist_ok=True)
    archive = downloads / entry.filename
    downloaded = False
    if not (archive.is_file() and sha256_of(archive) == entry.sha256):
        _download_verified(entry, archive, opener)
        downloaded = True
    source_root = cache_dir / f"{entry.name}-{entry.version}"
    marker = cache_dir / f"{entry.name}-{entry.version}.unpacked"
    if downloaded or not _marker_matches(marker, entry.sha256) or not source_root.is_dir():
        _unpack(archive, source_root)
        marker.write_text(entry.sha256 + "\n", encoding="utf-8")
    return FetchedSdist(
        name=entry.name,
        version=entry.version,
        archive=archive,
        source_root=source_root,
        sha256=entry.sha256,
        downloaded=downloaded,
    )


def _download_verified(entry: SdistEntry, archive: Path, opener: Download) -> None:
    partial = archive.with_name(archive.name + ".partial")
    try:
        opener(entry.url, partial)
        actual = sha256_of(partial)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    if actual != entry.sha256:
        partial.unlink(missing_ok=True)
        archive.unlink(missing_ok=True)
        raise SdistHashMismatch(entry.filename, entry.sha256, actual)
    partial.replace(archive)


def _marker_matches(marker: Path, sha256: str) -> bool:
    try:
        return marker.read_text(encoding="utf-8").strip() == sha256
    except OSError:
        return False


def _unpack(archive: Path, dest: Path) -> None:
    """Extract into a staging folder, then move its single top folder (or itself) to ``dest``."""
    staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=dest.parent))
    try:
        if archive.name.endswith(".zip"):
            _extract_zip(archive, staging)
        else:
            with tarfile.open(archive) as tar:
                # The "data" filter rejects absolute paths, "..", links leaving the folder,
                # device files, and strips set-uid bits.
                tar.extractall(staging, filter="data")
        entries = list(staging.iterdir())
        top = entries[0] if len(entries) == 1 and entries[0].is_dir() else staging
        if dest.exists():
            shutil.rmtree(dest)
        top.replace(dest)
    except (tarfile.TarError, zipfile.BadZipFile) as exc:
        raise GoldenFetchError(f"cannot unpack {archive.name}: {exc}") from exc
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _extract_zip(archive: Path, dest: Path) -> None:
    root = dest.resolve()
    with zipfile.ZipFile(archive) as zf:
        for info in zf.infolist():
            name = PurePosixPath(info.filename)
            target = (root / name).resolve()
            if name.is_absolute() or ".." in name.parts or not target.is_relative_to(root):
                raise UnsafeArchive(f"{archive.name}: member {info.filename!r} leaves the folder")
        zf.extractall(root)


def stdlib_root() -> Path:
    """The standard library folder of the running interpreter."""
    return Path(sysconfig.get_paths()["stdlib"])


def stdlib_corpus(
    dest: Path, *, corpus: CorpusEntry | None = None, source: Path | None = None
) -> Path:
    """Copy the standard library (minus the excluded folders) to ``dest`` once; return ``dest``.

    A marker file ``dest/.corpus.json`` records the interpreter version and the file count; when
    it matches, nothing is copied again. ``corpus_file_count`` reads the count back.
    """
    corpus = load_manifest().corpus if corpus is None else corpus
    source = stdlib_root() if source is None else source
    identity = {
        "name": corpus.name,
        "python": sys.version.split()[0],
        "source": str(source),
        "exclude": sorted(corpus.exclude),
        "suffixes": sorted(corpus.suffixes),
    }
    existing = _read_marker(dest)
    if existing is not None and {k: existing.get(k) for k in identity} == identity:
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=dest.parent))
    try:
        files, size = _copy_tree(source, staging, set(corpus.exclude), tuple(corpus.suffixes))
        marker = {**identity, "files": files, "bytes": size}
        (staging / _CORPUS_MARKER).write_text(json.dumps(marker, sort_keys=True), "utf-8")
        if dest.exists():
            shutil.rmtree(dest)
        staging.replace(dest)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return dest


def corpus_file_count(dest: Path) -> int:
    """How many source files ``stdlib_corpus`` copied into ``dest``."""
    marker = _read_marker(dest)
    if marker is None:
        raise GoldenFetchError(f"{dest} is not a corpus built by stdlib_corpus")
    files = marker.get("files")
    if not isinstance(files, int):
        raise GoldenFetchError(f"{dest / _CORPUS_MARKER} has no file count")
    return files


def _read_marker(dest: Path) -> dict[str, object] | None:
    try:
        data = json.loads((dest / _CORPUS_MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _copy_tree(
    source: Path, dest: Path, exclude: set[str], suffixes: tuple[str, ...]
) -> tuple[int, int]:
    files = 0
    size = 0
    for dirpath, dirnames, filenames in os.walk(source):
        # Pruning in place keeps os.walk out of the excluded folders; sorted for determinism.
        dirnames[:] = sorted(d for d in dirnames if d not in exclude)
        rel = Path(dirpath).relative_to(source)
        for filename in sorted(filenames):
            src = Path(dirpath) / filename
            if not filename.endswith(suffixes) or src.is_symlink():
                continue
            target = dest / rel / filename
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, target)
            files += 1
            size += target.stat().st_size
    return files, size
