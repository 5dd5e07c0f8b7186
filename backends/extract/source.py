"""Source files as the extractors see them: decoded once, with canonical byte positions.

Canonical text (CONTRACT.md §3): the file decoded per PEP 263 (BOM removed, encoding cookie
honoured), newlines left untouched. Canonical bytes: that text encoded as UTF-8. Every span in
every evidence table is a pair of offsets into the canonical bytes. For a UTF-8 file without a
BOM the canonical bytes are the file's bytes.
"""

from __future__ import annotations

import io
import os
import re
import stat
import tokenize
from bisect import bisect_right
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

_NEWLINE = re.compile(r"\r\n|\r|\n")

DEFAULT_MAX_FILE_BYTES = 5 * 1024 * 1024
"""Files larger than this are not read (SCAN_FILE_TOO_LARGE): a 20 MB generated module costs
minutes in every parser and holds no facts worth that."""


class NotRegularFile(OSError):
    """The path is a FIFO, device, socket or directory (or a symlink to one): never read."""

    def __init__(self, path: os.PathLike[str] | str, mode: int) -> None:
        kind = _file_kind(mode)
        super().__init__(f"not a regular file ({kind})")
        self.kind = kind


class FileTooLarge(OSError):
    """The file is larger than the limit; it is not read."""

    def __init__(self, size: int, limit: int) -> None:
        super().__init__(f"{size} bytes, more than the limit of {limit} bytes")
        self.size = size
        self.limit = limit


def _file_kind(mode: int) -> str:
    for test, kind in (
        (stat.S_ISFIFO, "fifo"),
        (stat.S_ISCHR, "character device"),
        (stat.S_ISBLK, "block device"),
        (stat.S_ISSOCK, "socket"),
        (stat.S_ISDIR, "directory"),
    ):
        if test(mode):
            return kind
    return "special file"


def read_regular_file(
    path: os.PathLike[str] | str, max_bytes: int | None = DEFAULT_MAX_FILE_BYTES
) -> bytes:
    """The bytes of a regular file, never blocking and never reading more than ``max_bytes``.

    Reading a FIFO blocks forever and ``/dev/zero`` never ends, so the type is checked with
    ``stat`` before opening (opening some devices has effects of its own), the file is opened
    with ``O_NONBLOCK`` (a FIFO swapped in after the check cannot block the open) and checked
    again on the open descriptor, and at most ``max_bytes + 1`` bytes are read (a file that
    grows after the check is still bounded). Raises :class:`NotRegularFile`,
    :class:`FileTooLarge` or another ``OSError``.
    """
    before = Path(path).stat()
    if not stat.S_ISREG(before.st_mode):
        raise NotRegularFile(path, before.st_mode)
    if max_bytes is not None and before.st_size > max_bytes:
        raise FileTooLarge(before.st_size, max_bytes)
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    try:
        after = os.fstat(fd)
        if not stat.S_ISREG(after.st_mode):
            raise NotRegularFile(path, after.st_mode)
        limit = max_bytes if max_bytes is not None else after.st_size
        chunks: list[bytes] = []
        total = 0
        while total <= limit:
            chunk = os.read(fd, min(1 << 20, limit + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
        if max_bytes is None:
            # No limit: read to the end, whatever the size said (a regular file ends).
            while chunk := os.read(fd, 1 << 20):
                chunks.append(chunk)
                total += len(chunk)
        elif total > max_bytes:
            raise FileTooLarge(total, max_bytes)
        return b"".join(chunks)
    finally:
        os.close(fd)


class DecodeFailure(Exception):
    """The bytes are not decodable Python source; ``code`` is a contract warning code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Decoded:
    """Result of decoding raw source bytes."""

    text: str
    encoding: str
    has_bom: bool


def decode_source(raw: bytes) -> Decoded:
    """Decode raw bytes the way the interpreter would, without importing anything.

    Raises :class:`DecodeFailure` with SCAN_BINARY_FILE for NUL bytes and SCAN_DECODE_ERROR
    for a bad cookie or undecodable bytes.
    """
    if b"\x00" in raw:
        raise DecodeFailure("SCAN_BINARY_FILE", "file contains NUL bytes")
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(raw).readline)
    except SyntaxError as exc:
        raise DecodeFailure("SCAN_DECODE_ERROR", f"bad encoding declaration: {exc}") from exc
    has_bom = raw.startswith(b"\xef\xbb\xbf")
    try:
        text = raw.decode(encoding)
    except (UnicodeDecodeError, LookupError) as exc:
        raise DecodeFailure("SCAN_DECODE_ERROR", f"cannot decode as {encoding}: {exc}") from exc
    if text.startswith("\ufeff"):
        text = text[1:]
    return Decoded(text=text, encoding=encoding, has_bom=has_bom)


def newline_style(text: str) -> str:
    """``LF``, ``CRLF``, ``CR``, ``mixed`` or ``none``."""
    kinds = {m.group(0) for m in _NEWLINE.finditer(text)}
    if not kinds:
        return "none"
    if len(kinds) > 1:
        return "mixed"
    return {"\n": "LF", "\r\n": "CRLF", "\r": "CR"}[kinds.pop()]


@dataclass(frozen=True)
class LineIndex:
    """Maps every native position unit to canonical UTF-8 byte offsets, and back.

    Lines end at ``\\r\\n``, ``\\r`` or ``\\n``, as in Python's tokenizer (and not at the other
    characters ``str.splitlines`` knows). Lines are 1-based unless a method says 0-based.
    """

    text: str
    _byte_starts: list[int] = field(init=False, repr=False)
    _char_starts: list[int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        char_starts = [0]
        byte_starts = [0]
        last_char = 0
        last_byte = 0
        for m in _NEWLINE.finditer(self.text):
            end = m.end()
            last_byte += len(self.text[last_char:end].encode("utf-8"))
            last_char = end
            char_starts.append(end)
            byte_starts.append(last_byte)
        object.__setattr__(self, "_char_starts", char_starts)
        object.__setattr__(self, "_byte_starts", byte_starts)

    @property
    def line_count(self) -> int:
        """Number of lines (a trailing newline does not open a counted line)."""
        n = len(self._char_starts)
        if n > 1 and self._char_starts[-1] == len(self.text):
            return n - 1
        return n if self.text else 0

    @cached_property
    def total_bytes(self) -> int:
        return len(self.text.encode("utf-8"))

    def line_text(self, line: int) -> str:
        """Text of a 1-based line, including its newline characters."""
        i = line - 1
        start = self._char_starts[i]
        end = self._char_starts[i + 1] if i + 1 < len(self._char_starts) else len(self.text)
        return self.text[start:end]

    def _check_line(self, line: int) -> None:
        if not 1 <= line <= len(self._char_starts):
            raise ValueError(f"line {line} out of range 1..{len(self._char_starts)}")

    def from_utf8_col(self, line: int, col: int) -> int:
        """Byte offset of (1-based line, 0-based UTF-8 byte column): ast, bytecode."""
        self._check_line(line)
        return self._byte_starts[line - 1] + col

    def from_codepoint_col(self, line: int, col: int) -> int:
        """Byte offset of (1-based line, 0-based code point column): libcst."""
        self._check_line(line)
        prefix = self.line_text(line)[:col]
        return self._byte_starts[line - 1] + len(prefix.encode("utf-8"))

    def from_utf16_col(self, line0: int, col: int) -> int:
        """Byte offset of (0-based line, 0-based UTF-16 code unit column): scip-python."""
        line = line0 + 1
        self._check_line(line)
        text = self.line_text(line)
        units = 0
        nbytes = 0
        for ch in text:
            if units >= col:
                break
            units += 2 if ord(ch) > 0xFFFF else 1
            nbytes += len(ch.encode("utf-8"))
        return self._byte_starts[line - 1] + nbytes

    def from_char_offset(self, offset: int) -> int:
        """Byte offset of a code point offset into the whole text."""
        line = bisect_right(self._char_starts, offset)
        start = self._char_starts[line - 1]
        return self._byte_starts[line - 1] + len(self.text[start:offset].encode("utf-8"))

    def position(self, byte_offset: int) -> tuple[int, int]:
        """(1-based line, 0-based UTF-8 byte column) of a byte offset."""
        line = bisect_right(self._byte_starts, byte_offset)
        return line, byte_offset - self._byte_starts[line - 1]

    def span(self, bstart: int, bend: int) -> dict[str, int]:
        """The six canonical span columns of a byte range."""
        line, col = self.position(bstart)
        end_line, end_col = self.position(bend)
        return {
            "bstart": bstart,
            "bend": bend,
            "line": line,
            "col": col,
            "end_line": end_line,
            "end_col": end_col,
        }


@dataclass(frozen=True)
class SourceFile:
    """One decoded Python source file, as handed to a per-file extractor."""

    path: str
    module: str | None
    is_package: bool
    text: str

    @cached_property
    def data(self) -> bytes:
        """Canonical UTF-8 bytes."""
        return self.text.encode("utf-8")

    @cached_property
    def lines(self) -> LineIndex:
        return LineIndex(self.text)
