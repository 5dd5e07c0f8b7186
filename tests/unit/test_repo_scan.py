"""repo_scan: every Python file gets one row; nothing outside the root is read."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from backends.extract.repo_scan import LocalFileSystem, module_name, scan, source_roots


def _write(root: Path, rel: str, data: bytes | str) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        path.write_text(data, encoding="utf-8", newline="")
    else:
        path.write_bytes(data)
    return path


def _by_path(root: Path) -> dict[str, dict[str, object]]:
    return {f.path: f.row for f in scan(root)}


def test_modules_packages_and_namespace_paths(tmp_path: Path) -> None:
    _write(tmp_path, "pkg/__init__.py", "")
    _write(tmp_path, "pkg/sub/mod.py", "x = 1\n")
    _write(tmp_path, "ns/part.py", "y = 2\n")
    _write(tmp_path, "scripts/my-tool.py", "z = 3\n")
    rows = _by_path(tmp_path)
    assert rows["pkg/__init__.py"]["module"] == "pkg"
    assert rows["pkg/__init__.py"]["is_package"] is True
    assert rows["pkg/sub/mod.py"]["module"] == "pkg.sub.mod"
    assert rows["ns/part.py"]["module"] == "ns.part"
    assert rows["scripts/my-tool.py"]["module"] is None


def test_src_layout_is_a_source_root(tmp_path: Path) -> None:
    _write(tmp_path, "pyproject.toml", "[project]\nname='x'\n")
    _write(tmp_path, "src/lib/__init__.py", "")
    _write(tmp_path, "src/lib/core.py", "")
    _write(tmp_path, "tests/test_core.py", "")
    rows = _by_path(tmp_path)
    assert rows["src/lib/core.py"]["module"] == "lib.core"
    assert rows["src/lib/core.py"]["source_root"] == "src"
    assert rows["tests/test_core.py"]["module"] == "tests.test_core"


def test_longest_source_root_wins() -> None:
    roots = source_roots(Path("/nonexistent"), ["src/a.py"])
    assert module_name("src/a.py", roots)[0] in {"a", "src.a"}
    assert module_name("x/y.py", ["x/", ""]) == ("y", False, "x")


def test_skipped_directories_are_not_walked(tmp_path: Path) -> None:
    _write(tmp_path, "a.py", "")
    _write(tmp_path, ".venv/lib/b.py", "")
    _write(tmp_path, "node_modules/c.py", "")
    _write(tmp_path, "__pycache__/d.py", "")
    assert list(_by_path(tmp_path)) == ["a.py"]


@pytest.mark.parametrize(
    ("data", "status", "code"),
    [
        (b"x = 1\x00", "binary", "SCAN_BINARY_FILE"),
        (b"x = '\xff'\n", "decode_error", "SCAN_DECODE_ERROR"),
        (b"# coding: nope-codec\n", "decode_error", "SCAN_DECODE_ERROR"),
        (b"", "ok", "SCAN_EMPTY_FILE"),
    ],
)
def test_bad_files_get_a_status_and_a_warning(
    tmp_path: Path, data: bytes, status: str, code: str
) -> None:
    _write(tmp_path, "f.py", data)
    (scanned,) = scan(tmp_path)
    assert scanned.row["status"] == status
    assert scanned.warning is not None and scanned.warning.code == code


def test_symlink_escape_and_loop_are_reported_not_followed(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    repo = tmp_path / "repo"
    _write(outside, "secret.py", "SECRET = 1\n")
    _write(repo, "ok.py", "")
    (repo / "escape.py").symlink_to(outside / "secret.py")
    (repo / "escape_dir").symlink_to(outside, target_is_directory=True)
    (repo / "loop_a.py").symlink_to(repo / "loop_b.py")
    (repo / "loop_b.py").symlink_to(repo / "loop_a.py")
    (repo / "self_dir").symlink_to(repo, target_is_directory=True)

    class Spy(LocalFileSystem):
        def __init__(self) -> None:
            self.read: list[Path] = []

        def read_bytes(self, path: Path) -> bytes:
            self.read.append(path.resolve())
            return super().read_bytes(path)

    spy = Spy()
    files = {f.path: f for f in scan(repo, spy)}
    assert files["escape.py"].row["status"] == "symlink_escape"
    assert files["escape_dir"].row["status"] == "symlink_escape"
    assert files["loop_a.py"].row["status"] == "symlink_loop"
    assert files["loop_b.py"].warning is not None
    assert files["loop_b.py"].warning.code == "SCAN_SYMLINK_LOOP"
    assert not any(p.is_relative_to(outside) for p in spy.read)
    assert "self_dir/ok.py" not in files  # a directory link back into the repo is walked once


def test_unreadable_file_is_reported(tmp_path: Path) -> None:
    _write(tmp_path, "locked.py", "x = 1\n")
    _write(tmp_path, "fine.py", "y = 1\n")

    class Denied(LocalFileSystem):
        def read_bytes(self, path: Path) -> bytes:
            if path.name == "locked.py":
                raise PermissionError(13, "Permission denied", str(path))
            return super().read_bytes(path)

    files = {f.path: f for f in scan(tmp_path, Denied())}
    assert files["locked.py"].row["status"] == "unreadable"
    assert files["locked.py"].warning is not None
    assert files["locked.py"].warning.code == "SCAN_UNREADABLE"
    assert files["fine.py"].row["status"] == "ok"


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_chmod_000_file_is_unreadable(tmp_path: Path) -> None:
    path = _write(tmp_path, "locked.py", "x = 1\n")
    path.chmod(0)
    try:
        (scanned,) = scan(tmp_path)
        assert scanned.row["status"] == "unreadable"
    finally:
        path.chmod(0o644)


def test_text_facts_are_recorded(tmp_path: Path) -> None:
    _write(tmp_path, "crlf.py", b"\xef\xbb\xbfa = 1\r\nb = 2\r\n")
    (scanned,) = scan(tmp_path)
    row = scanned.row
    assert (row["encoding"], row["has_bom"], row["newline"], row["line_count"]) == (
        "utf-8-sig",
        True,
        "CRLF",
        2,
    )
    assert scanned.text == "a = 1\r\nb = 2\r\n"


def test_scan_order_is_sorted_and_stable(tmp_path: Path) -> None:
    for name in ("b.py", "a.py", "c/z.py", "c/a.py"):
        _write(tmp_path, name, "")
    assert [f.path for f in scan(tmp_path)] == ["a.py", "b.py", "c/a.py", "c/z.py"]


def test_an_unreadable_folder_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # As root (CI) chmod 000 stops nothing, so the listing is refused here instead.
    _write(tmp_path, "fine.py", "y = 1\n")
    _write(tmp_path, "locked/inner.py", "x = 1\n")
    listing = os.scandir

    def refusing(path: Path) -> object:
        if Path(path).name == "locked":
            raise PermissionError(13, "Permission denied", str(path))
        return listing(path)

    monkeypatch.setattr("backends.extract.repo_scan.os.scandir", refusing)
    files = {f.path: f for f in scan(tmp_path)}
    assert set(files) == {"fine.py", "locked"}
    assert files["locked"].row["status"] == "unreadable"
    assert files["locked"].row["is_python"] is False
    assert files["locked"].warning is not None
    assert files["locked"].warning.code == "SCAN_UNREADABLE"


def test_a_run_folder_inside_the_repository_is_not_scanned(tmp_path: Path) -> None:
    _write(tmp_path, "pkg/a.py", "x = 1\n")
    _write(tmp_path, "out/.codeanatomy-out", "codeanatomy run folder\n")
    _write(tmp_path, "out/work/scip/run-1/src/pkg/a.py", "x = 1\n")  # scip's scratch copy
    assert list(_by_path(tmp_path)) == ["pkg/a.py"]


@pytest.mark.skipif(os.geteuid() == 0, reason="root lists folders whatever their mode")
def test_chmod_000_folder_is_unreadable(tmp_path: Path) -> None:
    _write(tmp_path, "locked/inner.py", "x = 1\n")
    (tmp_path / "locked").chmod(0)
    try:
        files = {f.path: f for f in scan(tmp_path)}
        assert files["locked"].row["status"] == "unreadable"
    finally:
        (tmp_path / "locked").chmod(0o755)
