"""The scip extractor: scip-python run in a sandbox, index.scip decoded into contract rows."""

from __future__ import annotations

import json
import shutil
import stat
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from backends.contract import schemas
from backends.extract import scip
from backends.extract.scip import scip_pb2
from backends.extract.scip.decode import DOC_MAX_CHARS, byte_range, decode_index
from backends.extract.source import LineIndex

needs_indexer = pytest.mark.skipif(
    not scip.DEFAULT_BIN.exists() or shutil.which("node") is None,
    reason="scip-python not installed: run `npm ci` in tools/scip (needs node on PATH)",
)
needs_node = pytest.mark.skipif(shutil.which("node") is None, reason="node is not on PATH")

BASE = """\
class Base:
    def greet(self) -> str:
        return "hi"


def helper(x: int) -> int:
    return x + 1
"""
CHILD = """\
from pkg.base import Base, helper


class Child(Base):
    def greet(self) -> str:
        return super().greet() + str(helper(1))


数据 = "😀"; print(数据)
"""
FILES = {"pkg/__init__.py": "", "pkg/base.py": BASE, "pkg/child.py": CHILD}
EMOJI_LINE = 9  # 1-based line of `数据 = "😀"; print(数据)` in CHILD


def make_repo(root: Path) -> dict[str, str]:
    for rel, text in FILES.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return dict(FILES)


@pytest.fixture(scope="module")
def indexed(tmp_path_factory: pytest.TempPathFactory) -> scip.RepoResult:
    if not scip.DEFAULT_BIN.exists() or shutil.which("node") is None:
        pytest.skip("scip-python not installed: run `npm ci` in tools/scip")
    base = tmp_path_factory.mktemp("scip")
    root = base / "demo"
    texts = make_repo(root)
    return scip.extract_repo(root, texts, base / "work")


def occurrences(result: scip.RepoResult, path: str) -> list[dict[str, Any]]:
    return [r for r in result.rows if r["kind"] == "occurrence" and r["path"] == path]


def covered(path: str, row: dict[str, Any]) -> bytes:
    return FILES[path].encode("utf-8")[row["bstart"] : row["bend"]]


def fake_binary(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "fake-scip-python"
    path.write_text("#!/bin/sh\n" + body + "\n", encoding="utf-8")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def only_warning(result: scip.RepoResult) -> dict[str, Any]:
    assert len(result.warnings) == 1
    path, warning = result.warnings[0]
    assert path == ""
    return {"code": warning.code, "detail": json.loads(warning.detail or "{}")}


# ------------------------------------------------------------------ the real indexer


@needs_indexer
@pytest.mark.parametrize(
    ("path", "name"),
    [("pkg/base.py", "Base"), ("pkg/base.py", "helper"), ("pkg/child.py", "Child")],
)
def test_definition_occurrence_covers_the_defined_name(
    indexed: scip.RepoResult, path: str, name: str
) -> None:
    defs = [r for r in occurrences(indexed, path) if r["is_definition"]]
    assert name.encode() in [covered(path, r) for r in defs]


@needs_indexer
@pytest.mark.parametrize("name", ["Base", "helper"])
def test_reference_in_other_module_carries_the_definition_symbol(
    indexed: scip.RepoResult, name: str
) -> None:
    (definition,) = [
        r
        for r in occurrences(indexed, "pkg/base.py")
        if r["is_definition"] and covered("pkg/base.py", r) == name.encode()
    ]
    refs = [
        r
        for r in occurrences(indexed, "pkg/child.py")
        if r["symbol"] == definition["symbol"] and not r["is_definition"]
    ]
    assert refs and all(r["roles"] == 8 for r in refs)  # ReadAccess
    assert all(covered("pkg/child.py", r) == name.encode() for r in refs)


@needs_indexer
def test_subclass_has_implementation_relationship_to_its_base(
    indexed: scip.RepoResult,
) -> None:
    rels = {
        (r["symbol"].rsplit(" ", 1)[-1], r["related_symbol"].rsplit(" ", 1)[-1], r["relationship"])
        for r in indexed.rows
        if r["kind"] == "relationship"
    }
    assert ("`pkg.child`/Child#", "`pkg.base`/Base#", "is_implementation") in rels


@needs_indexer
def test_utf16_columns_after_emoji_map_to_the_identifier_bytes(
    indexed: scip.RepoResult,
) -> None:
    on_line = [
        r
        for r in occurrences(indexed, "pkg/child.py")
        if r["line"] == EMOJI_LINE and r["symbol"].endswith("`数据`.")
    ]
    assert len(on_line) == 2  # the definition, and the reference after the emoji
    assert all(covered("pkg/child.py", r) == "数据".encode() for r in on_line)
    reference = max(on_line, key=lambda r: r["bstart"])
    assert not reference["is_definition"]
    assert reference["col"] == len('数据 = "😀"; print('.encode())


@needs_indexer
def test_rows_conform_to_the_contract_schema(indexed: scip.RepoResult) -> None:
    assert all(list(r) == schemas.SCIP.names for r in indexed.rows)
    table = pa.Table.from_pylist(indexed.rows, schema=schemas.SCIP)
    table.validate(full=True)
    for field in schemas.SCIP:
        if not field.nullable:
            assert table.column(field.name).null_count == 0, field.name


@needs_indexer
def test_keys_are_unique_and_ordinals_dense_per_kind_and_path(indexed: scip.RepoResult) -> None:
    groups: dict[tuple[str, str | None], list[int]] = {}
    for r in indexed.rows:
        groups.setdefault((r["kind"], r["path"]), []).append(r["ordinal"])
    assert {k for k, _ in groups} == {"occurrence", "symbol", "relationship"}
    for ordinals in groups.values():
        assert sorted(ordinals) == list(range(len(ordinals)))


@needs_indexer
def test_global_symbols_have_their_version_normalized(indexed: scip.RepoResult) -> None:
    symbols = [r["symbol"] for r in indexed.rows if not r["symbol"].startswith("local ")]
    assert symbols
    assert {s.split(" ")[3] for s in symbols} == {"."}


@needs_indexer
def test_two_runs_in_any_file_order_give_identical_rows(
    indexed: scip.RepoResult, tmp_path: Path
) -> None:
    root = tmp_path / "demo"
    texts = make_repo(root)
    reordered = dict(reversed(list(texts.items())))
    again = scip.extract_repo(root, reordered, tmp_path / "work")
    assert again.rows == indexed.rows
    assert again.warnings == indexed.warnings == []


@needs_indexer
def test_indexer_writes_nothing_into_the_repo(tmp_path: Path) -> None:
    root = tmp_path / "demo"
    texts = make_repo(root)
    before = sorted(p.relative_to(root) for p in root.rglob("*"))
    result = scip.extract_repo(root, texts, tmp_path / "work")
    assert result.rows
    assert sorted(p.relative_to(root) for p in root.rglob("*")) == before


@needs_indexer
def test_only_files_in_texts_are_indexed(tmp_path: Path) -> None:
    root = tmp_path / "demo"
    texts = make_repo(root)
    del texts["pkg/child.py"]
    result = scip.extract_repo(root, texts, tmp_path / "work")
    assert {r["path"] for r in result.rows if r["kind"] == "occurrence"} <= set(texts)
    assert "pkg/base.py" in {r["path"] for r in result.rows}


@needs_indexer
def test_exhausted_heap_gives_failed_out_of_memory(tmp_path: Path) -> None:
    root = tmp_path / "demo"
    result = scip.extract_repo(root, make_repo(root), tmp_path / "work", max_old_space_mb=8)
    warning = only_warning(result)
    assert result.rows == []
    assert warning["code"] == "SCIP_FAILED"
    assert warning["detail"]["out_of_memory"] is True


# ------------------------------------------------------------------ failures


def test_missing_binary_gives_unavailable(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-scip-python"
    result = scip.extract_repo(tmp_path, FILES, tmp_path / "work", scip_bin=missing)
    assert result.rows == []
    assert only_warning(result) == {"code": "SCIP_UNAVAILABLE", "detail": {"binary": str(missing)}}


def test_env_var_names_the_binary(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    missing = tmp_path / "elsewhere" / "scip-python"
    monkeypatch.setenv(scip.BIN_ENV, str(missing))
    result = scip.extract_repo(tmp_path, FILES, tmp_path / "work")
    assert only_warning(result)["detail"] == {"binary": str(missing)}


@needs_node
def test_failing_binary_gives_failed_with_stderr(tmp_path: Path) -> None:
    fake = fake_binary(tmp_path, "echo 'index exploded' >&2\nexit 1")
    result = scip.extract_repo(tmp_path, FILES, tmp_path / "work", scip_bin=fake)
    warning = only_warning(result)
    assert result.rows == []
    assert warning["code"] == "SCIP_FAILED"
    assert warning["detail"]["returncode"] == 1
    assert "index exploded" in warning["detail"]["stderr_tail"]


@needs_node
def test_hanging_binary_is_killed_at_the_timeout(tmp_path: Path) -> None:
    # A child in the background too: the whole process group must go.
    fake = fake_binary(tmp_path, "/bin/sleep 60 &\nexec /bin/sleep 60")
    started = time.monotonic()
    result = scip.extract_repo(tmp_path, FILES, tmp_path / "work", scip_bin=fake, timeout_s=1)
    assert time.monotonic() - started < 10
    warning = only_warning(result)
    assert warning["code"] == "SCIP_FAILED"
    assert warning["detail"]["timed_out"] is True


@needs_node
def test_undecodable_index_gives_failed(tmp_path: Path) -> None:
    fake = fake_binary(
        tmp_path,
        "while [ $# -gt 0 ]; do\n"
        '  [ "$1" = --output ] && printf "\\377\\377\\377" > "$2"; shift\n'
        "done",
    )
    result = scip.extract_repo(tmp_path, FILES, tmp_path / "work", scip_bin=fake)
    warning = only_warning(result)
    assert warning["code"] == "SCIP_FAILED"
    assert "decoded" in result.warnings[0][1].message


@needs_node
def test_fake_indexer_gets_a_minimal_environment(tmp_path: Path) -> None:
    out = tmp_path / "env.txt"
    fake = fake_binary(tmp_path, f"/usr/bin/env > {out}\nexit 3")
    scip.extract_repo(tmp_path, FILES, tmp_path / "work", scip_bin=fake, max_old_space_mb=321)
    env = dict(line.split("=", 1) for line in out.read_text().splitlines())
    assert set(env) - {"PWD", "SHLVL", "_"} == {"PATH", "HOME", "TMPDIR", "NODE_OPTIONS"}
    assert env["NODE_OPTIONS"] == "--max-old-space-size=321"
    assert str(tmp_path / "work") in env["HOME"]


# ------------------------------------------------------------------ decoding


@pytest.mark.parametrize(
    ("text", "rng", "expected"),
    [
        ("x = 1\n", [0, 0, 1], (0, 1)),
        ("a\n😀b = 1\n", [1, 2, 3], (6, 7)),  # the emoji is 2 UTF-16 units, 4 bytes
        ("é\r\nxy\n", [0, 0, 1, 2], (0, 6)),  # multi-line, CRLF kept
        ("x\n", [5, 0, 1], None),  # line out of range
        ("x\n", [0, 1], None),  # neither 3 nor 4 elements
        ("xy\n", [0, 2, 1], None),  # end before start
    ],
)
def test_byte_range_converts_scip_ranges(
    text: str, rng: list[int], expected: tuple[int, int] | None
) -> None:
    assert byte_range(LineIndex(text), rng) == expected


def _index() -> scip_pb2.Index:
    index = scip_pb2.Index()
    doc = index.documents.add(relative_path="m.py")
    doc.occurrences.add(range=[0, 4, 5], symbol="scip-python python p 9 m/y.", symbol_roles=8)
    doc.occurrences.add(range=[0, 0, 1], symbol="scip-python python p 9 m/x.", symbol_roles=1)
    doc.occurrences.add(range=[7, 0, 1], symbol="local 0", symbol_roles=8)
    info = doc.symbols.add(
        symbol="scip-python python p 9 m/C#",
        kind=scip_pb2.SymbolInformation.Class,
        display_name="C",
        enclosing_symbol="scip-python python p 9 m/",
        documentation=["d" * (DOC_MAX_CHARS + 5), "second"],
    )
    info.relationships.add(
        symbol="scip-python python p 9 m/B#", is_reference=True, is_implementation=True
    )
    index.documents.add(relative_path="../outside.py").occurrences.add(range=[0, 0, 1])
    index.external_symbols.add(symbol="scip-python python python-stdlib 3.11 builtins/int#")
    return index


def _decode() -> tuple[list[dict[str, Any]], list[tuple[str, Any]]]:
    decoded = decode_index(_index().SerializeToString(), {"m.py": "x = y\n"})
    return decoded.rows, decoded.warnings


def test_occurrences_are_ordered_by_span_and_numbered() -> None:
    rows, _ = _decode()
    occ = [(r["ordinal"], r["symbol"], r["bstart"]) for r in rows if r["kind"] == "occurrence"]
    assert occ == [
        (0, "scip-python python p . m/x.", 0),
        (1, "scip-python python p . m/y.", 4),
        (2, "local 0", None),  # unmapped: null span, last
    ]


def test_unmapped_range_gives_span_warning() -> None:
    _, warnings = _decode()
    codes = Counter((path, w.code) for path, w in warnings)
    assert codes[("m.py", "EXTRACT_SPAN_UNMAPPED")] == 1


def test_document_outside_texts_is_skipped_with_warning() -> None:
    rows, warnings = _decode()
    assert "../outside.py" not in {r["path"] for r in rows}
    assert ("../outside.py", "SCIP_DOCUMENT_SKIPPED") in {(p, w.code) for p, w in warnings}


def test_symbol_row_takes_kind_name_and_first_documentation_truncated() -> None:
    rows, _ = _decode()
    (sym,) = [r for r in rows if r["kind"] == "symbol" and r["path"] == "m.py"]
    assert sym["symbol_kind"] == "Class"
    assert sym["display_name"] == "C"
    assert sym["enclosing_symbol"] == "scip-python python p . m/"
    assert sym["documentation"] == "d" * DOC_MAX_CHARS


def test_external_symbol_has_null_path_and_no_optional_fields() -> None:
    rows, _ = _decode()
    (ext,) = [r for r in rows if r["kind"] == "symbol" and r["path"] is None]
    assert ext["symbol"] == "scip-python python python-stdlib . builtins/int#"
    assert [ext[c] for c in ("symbol_kind", "display_name", "documentation")] == [None] * 3


def test_relationship_flags_are_sorted_and_comma_joined() -> None:
    rows, _ = _decode()
    (rel,) = [r for r in rows if r["kind"] == "relationship"]
    assert rel["relationship"] == "is_implementation,is_reference"
    assert rel["related_symbol"] == "scip-python python p . m/B#"
    assert rel["path"] is None and rel["bstart"] is None


def test_garbage_bytes_raise_decode_error() -> None:
    from backends.extract.scip.decode import IndexDecodeError

    with pytest.raises(IndexDecodeError):
        decode_index(b"\xff\xff\xff", {})
