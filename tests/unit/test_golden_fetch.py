"""Fetching pinned sdists (with a fake downloader) and building the stdlib corpus."""

from __future__ import annotations

import hashlib
import io
import tarfile
import zipfile
from pathlib import Path

import pytest

from harness.golden.fetch import (
    GoldenFetchError,
    SdistHashMismatch,
    UnsafeArchive,
    corpus_file_count,
    default_cache_dir,
    fetch_sdists,
    stdlib_corpus,
)
from harness.golden.manifest import CorpusEntry, Manifest, SdistEntry


def _tar_gz(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buffer.getvalue()


ARCHIVE = _tar_gz({"demo-1.0/demo/__init__.py": b"x = 1\n", "demo-1.0/PKG-INFO": b"Name: demo\n"})


def _manifest(data: bytes, filename: str = "demo-1.0.tar.gz", sha: str | None = None) -> Manifest:
    entry = SdistEntry(
        name="demo",
        version="1.0",
        filename=filename,
        url=f"https://files.pythonhosted.org/packages/xx/{filename}",
        sha256=sha or hashlib.sha256(data).hexdigest(),
    )
    return Manifest(manifest_version=1, corpus=CorpusEntry("c", "stdlib"), sdist=(entry,))


class FakeDownloader:
    """Serves fixed bytes for every URL and records the URLs asked for."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.urls: list[str] = []

    def __call__(self, url: str, dest: Path) -> None:
        self.urls.append(url)
        dest.write_bytes(self.data)


def test_good_hash_downloads_and_unpacks_the_source_root(tmp_path: Path) -> None:
    opener = FakeDownloader(ARCHIVE)
    [fetched] = fetch_sdists(_manifest(ARCHIVE), tmp_path, opener=opener)
    assert fetched.downloaded
    assert opener.urls == ["https://files.pythonhosted.org/packages/xx/demo-1.0.tar.gz"]
    assert fetched.source_root == tmp_path / "demo-1.0"
    assert (fetched.source_root / "demo" / "__init__.py").read_bytes() == b"x = 1\n"


def test_bad_hash_raises_naming_file_and_hashes_and_deletes_the_download(tmp_path: Path) -> None:
    expected = "0" * 64
    actual = hashlib.sha256(ARCHIVE).hexdigest()
    with pytest.raises(SdistHashMismatch) as info:
        fetch_sdists(_manifest(ARCHIVE, sha=expected), tmp_path, opener=FakeDownloader(ARCHIVE))
    message = str(info.value)
    assert "demo-1.0.tar.gz" in message and expected in message and actual in message
    assert (info.value.expected, info.value.actual) == (expected, actual)
    assert list((tmp_path / "downloads").iterdir()) == []
    assert not (tmp_path / "demo-1.0").exists()


def test_verified_cached_archive_is_not_downloaded_again(tmp_path: Path) -> None:
    manifest = _manifest(ARCHIVE)
    fetch_sdists(manifest, tmp_path, opener=FakeDownloader(ARCHIVE))
    second = FakeDownloader(b"must not be used")
    [fetched] = fetch_sdists(manifest, tmp_path, opener=second)
    assert second.urls == []
    assert not fetched.downloaded
    assert (fetched.source_root / "demo" / "__init__.py").exists()


def test_corrupt_cached_archive_is_downloaded_again(tmp_path: Path) -> None:
    manifest = _manifest(ARCHIVE)
    (tmp_path / "downloads").mkdir()
    (tmp_path / "downloads" / "demo-1.0.tar.gz").write_bytes(b"truncated")
    opener = FakeDownloader(ARCHIVE)
    [fetched] = fetch_sdists(manifest, tmp_path, opener=opener)
    assert len(opener.urls) == 1 and fetched.downloaded


def test_a_failing_download_leaves_no_partial_file(tmp_path: Path) -> None:
    def broken(url: str, dest: Path) -> None:
        dest.write_bytes(b"half")
        raise OSError("connection reset")

    with pytest.raises(OSError, match="connection reset"):
        fetch_sdists(_manifest(ARCHIVE), tmp_path, opener=broken)
    assert list((tmp_path / "downloads").iterdir()) == []


def test_tar_member_escaping_the_folder_is_refused(tmp_path: Path) -> None:
    evil = _tar_gz({"../../evil.py": b"boom\n"})
    with pytest.raises(GoldenFetchError, match=r"demo-1\.0\.tar\.gz"):
        fetch_sdists(_manifest(evil), tmp_path / "cache", opener=FakeDownloader(evil))
    assert not (tmp_path / "evil.py").exists()


def test_zip_archive_unpacks_and_escaping_member_is_refused(tmp_path: Path) -> None:
    good = _zip({"demo-1.0/demo.py": b"y = 2\n"})
    [fetched] = fetch_sdists(
        _manifest(good, "demo-1.0.zip"), tmp_path / "a", opener=FakeDownloader(good)
    )
    assert (fetched.source_root / "demo.py").read_bytes() == b"y = 2\n"
    evil = _zip({"../evil.py": b"boom\n"})
    with pytest.raises(UnsafeArchive, match=r"evil\.py"):
        fetch_sdists(_manifest(evil, "demo-1.0.zip"), tmp_path / "b", opener=FakeDownloader(evil))
    assert not (tmp_path / "evil.py").exists()


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"CODEANATOMY_CACHE": "/c"}, Path("/c/golden")),
        ({}, Path("/home/u/.cache/codeanatomy/golden")),
    ],
)
def test_default_cache_dir_follows_the_environment(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], expected: Path
) -> None:
    monkeypatch.delenv("CODEANATOMY_CACHE", raising=False)
    monkeypatch.setenv("HOME", "/home/u")
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    assert default_cache_dir() == expected


def _fake_stdlib(root: Path) -> Path:
    for rel in ("os.py", "json/__init__.py", "test/test_os.py", "idlelib/x.py", "data.txt",
                "site-packages/pkg/m.py", "email/tests/t.py", "email/parser.py"):  # fmt: skip
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text("x = 1\n", encoding="utf-8")
    return root


CORPUS = CorpusEntry("c", "stdlib", exclude=("test", "tests", "idlelib", "site-packages"))


def test_stdlib_corpus_copies_python_files_minus_excluded_folders(tmp_path: Path) -> None:
    source = _fake_stdlib(tmp_path / "lib")
    dest = stdlib_corpus(tmp_path / "corpus", corpus=CORPUS, source=source)
    copied = sorted(p.relative_to(dest).as_posix() for p in dest.rglob("*.py"))
    assert copied == ["email/parser.py", "json/__init__.py", "os.py"]
    assert corpus_file_count(dest) == 3


def test_stdlib_corpus_is_built_once(tmp_path: Path) -> None:
    source = _fake_stdlib(tmp_path / "lib")
    dest = stdlib_corpus(tmp_path / "corpus", corpus=CORPUS, source=source)
    (source / "late.py").write_text("y = 2\n", encoding="utf-8")
    stdlib_corpus(dest, corpus=CORPUS, source=source)
    assert not (dest / "late.py").exists()


def test_corpus_file_count_rejects_a_folder_it_did_not_build(tmp_path: Path) -> None:
    with pytest.raises(GoldenFetchError, match="not a corpus"):
        corpus_file_count(tmp_path)
