"""Positions of the ``cst`` extractor: code-point ranges recorded while libcst generates code,
and their mapping to canonical byte offsets of the source (CONTRACT.md §3)."""

from __future__ import annotations

from bisect import bisect_left
from typing import Final, Protocol

from backends.extract.source import SourceFile


class CodeCursor(Protocol):
    """What a recorder reads and writes: the code-point offset of the generated text so far,
    and the code-point [start, end] of each placed row, by ordinal."""

    offset: int
    spans: dict[int, list[int]]


class _NoSpan:
    """The context manager of a node whose position nobody asked for."""

    __slots__ = ()

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


NO_SPAN: Final = _NoSpan()


class SpanRecorder:
    """Records the code-point range emitted inside it as the span of some rows."""

    __slots__ = ("cursor", "ordinals", "start")

    def __init__(self, cursor: CodeCursor, ordinals: list[int]) -> None:
        self.cursor = cursor
        self.ordinals = ordinals
        self.start = cursor.offset

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        for ordinal in self.ordinals:
            self.cursor.spans[ordinal] = [self.start, self.cursor.offset]


class Offsets:
    """Code-point offsets of the generated text -> canonical byte offsets of the source.

    libcst reproduces its input exactly except for rare whitespace it drops (1.9.0 loses the
    space in ``except (A, B) :``). Every span starts on a token and ends after one, so when
    the texts differ only in whitespace, the k-th non-space character of one is the k-th of
    the other.
    """

    def __init__(self, source: SourceFile, generated: str) -> None:
        self.to_bytes = source.lines.from_char_offset
        self.valid = True
        self.gen_pos: list[int] | None = None
        self.src_pos: list[int] = []
        if generated != source.text:
            self.gen_pos = [i for i, ch in enumerate(generated) if not ch.isspace()]
            self.src_pos = [i for i, ch in enumerate(source.text) if not ch.isspace()]
            same = len(self.gen_pos) == len(self.src_pos) and all(
                generated[g] == source.text[s]
                for g, s in zip(self.gen_pos, self.src_pos, strict=True)
            )
            self.valid = same

    def start(self, offset: int) -> int:
        """The byte offset of a span starting at code point ``offset`` of the generated text."""
        if self.gen_pos is not None:
            offset = self.src_pos[min(bisect_left(self.gen_pos, offset), len(self.src_pos) - 1)]
        return self.to_bytes(offset)

    def end(self, offset: int) -> int:
        """The byte offset of a span ending at code point ``offset`` of the generated text."""
        if self.gen_pos is not None:
            offset = self.src_pos[max(bisect_left(self.gen_pos, offset) - 1, 0)] + 1
        return self.to_bytes(offset)
