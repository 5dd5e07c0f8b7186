"""Canonical positions: every native unit maps to the same UTF-8 byte offsets."""

from __future__ import annotations

import pytest

from backends.extract.source import (
    DecodeFailure,
    LineIndex,
    SourceFile,
    decode_source,
    newline_style,
)

TEXT = 'x = 1\r\ns = "😀 汉字"; 名前 = s\n\tz = 名前\rlast'


def _expected_offset(target: str, occurrence: int = 0) -> int:
    idx = -1
    for _ in range(occurrence + 1):
        idx = TEXT.index(target, idx + 1)
    return len(TEXT[:idx].encode("utf-8"))


def test_lines_end_at_crlf_cr_and_lf_only() -> None:
    idx = LineIndex("a\r\nb\rc\nd\x0ce\u2028f")
    assert idx.line_count == 4
    assert idx.line_text(4) == "d\x0ce\u2028f"


def test_utf8_column_offsets() -> None:
    idx = LineIndex(TEXT)
    line2 = TEXT.split("\r\n")[1].split("\n", maxsplit=1)[0]
    col = len(line2[: line2.index("名前")].encode("utf-8"))
    assert idx.from_utf8_col(2, col) == _expected_offset("名前")


def test_codepoint_column_offsets() -> None:
    idx = LineIndex(TEXT)
    line2 = 's = "😀 汉字"; 名前 = s'
    assert idx.from_codepoint_col(2, line2.index("名前")) == _expected_offset("名前")


def test_utf16_column_offsets_count_astral_characters_twice() -> None:
    idx = LineIndex(TEXT)
    line2 = 's = "😀 汉字"; 名前 = s'
    utf16_col = len(line2[: line2.index("名前")].encode("utf-16-le")) // 2
    assert utf16_col == line2.index("名前") + 1  # the emoji is a surrogate pair
    assert idx.from_utf16_col(1, utf16_col) == _expected_offset("名前")


def test_position_inverts_offsets_on_every_line() -> None:
    idx = LineIndex(TEXT)
    for target, line in (("x", 1), ("名前", 2), ("z", 3), ("last", 4)):
        offset = _expected_offset(target)
        got_line, col = idx.position(offset)
        assert got_line == line
        assert idx.from_utf8_col(got_line, col) == offset


def test_span_bytes_decode_to_the_target() -> None:
    src = SourceFile(path="m.py", module="m", is_package=False, text=TEXT)
    start = _expected_offset("名前", 1)
    span = src.lines.span(start, start + len("名前".encode()))
    assert src.data[span["bstart"] : span["bend"]].decode() == "名前"
    assert span["line"] == span["end_line"] == 3


def test_char_offset_conversion() -> None:
    idx = LineIndex(TEXT)
    assert idx.from_char_offset(TEXT.index("last")) == _expected_offset("last")


@pytest.mark.parametrize(
    ("raw", "text", "encoding", "bom"),
    [
        (b"x = 1\n", "x = 1\n", "utf-8", False),
        (b"\xef\xbb\xbfx = '\xc3\xa9'\n", "x = 'é'\n", "utf-8-sig", True),
        (
            b"# -*- coding: latin-1 -*-\nx = '\xe9'\n",
            "# -*- coding: latin-1 -*-\nx = 'é'\n",
            "iso-8859-1",
            False,
        ),
    ],
)
def test_decode_source_follows_pep263(raw: bytes, text: str, encoding: str, bom: bool) -> None:
    decoded = decode_source(raw)
    assert (decoded.text, decoded.encoding, decoded.has_bom) == (text, encoding, bom)


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        (b"x = 1\x00\n", "SCAN_BINARY_FILE"),
        (b"x = '\xff\xfe'\n", "SCAN_DECODE_ERROR"),
        (b"# -*- coding: no-such-codec -*-\nx = 1\n", "SCAN_DECODE_ERROR"),
    ],
)
def test_undecodable_sources_fail_with_a_code(raw: bytes, code: str) -> None:
    with pytest.raises(DecodeFailure) as info:
        decode_source(raw)
    assert info.value.code == code


@pytest.mark.parametrize(
    ("text", "style"),
    [
        ("a\nb\n", "LF"),
        ("a\r\nb\r\n", "CRLF"),
        ("a\rb", "CR"),
        ("a\nb\r\n", "mixed"),
        ("a", "none"),
    ],
)
def test_newline_style(text: str, style: str) -> None:
    assert newline_style(text) == style
