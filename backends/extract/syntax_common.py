"""Small helpers shared by the per-file syntax extractors (ast, symtable, bytecode, cst, ...).

Kept parser-neutral: JSON encoding of ``detail`` columns, null spans, the literal ``__all__``
of a module, turning a native (1-based line, UTF-8 byte column) range into canonical span
columns, and turning a parser failure into the structured warning the contract names
(CONTRACT.md §10).
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, Final

from backends.extract.result import FileWarning
from backends.extract.source import SourceFile

SYNTAX_ERROR: Final = "EXTRACT_SYNTAX_ERROR"
RECURSION_LIMIT: Final = "EXTRACT_RECURSION_LIMIT"
SPAN_UNMAPPED: Final = "EXTRACT_SPAN_UNMAPPED"

# The span columns of a row that has no source position.
NULL_SPAN: Final[Mapping[str, None]] = {
    "bstart": None,
    "bend": None,
    "line": None,
    "col": None,
    "end_line": None,
    "end_col": None,
}

# CPython reports nesting limits of its tokenizer and compiler as SyntaxError; only the
# message tells them apart from a genuine syntax error, so these are matched here, once.
_NESTING_MESSAGES: Final = (
    "too many nested parentheses",
    "too many levels of indentation",
    "too many statically nested blocks",
    "too complex",
)


def encode_detail(obj: Mapping[str, Any] | None) -> str | None:
    """A ``detail`` value: sorted keys, no insignificant whitespace, UTF-8 kept (§1)."""
    if obj is None:
        return None
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def literal_all(bindings: Iterable[tuple[bool, list[str] | None]]) -> list[str] | None:
    """Literal ``__all__`` of a module body; None when absent or not a literal.

    ``bindings`` are the module-level bindings of ``__all__`` in source order, each as
    (augmented, strings): ``__all__ = [...]`` replaces the names, ``__all__ += [...]`` adds to
    them; ``strings`` is None when the value is not a display of string literals.
    """
    known: list[str] | None = None
    unknown = False
    for augmented, strings in bindings:
        if not augmented:
            known = strings
            unknown = known is None
        elif strings is None:
            unknown = True
        elif not unknown:
            known = (known or []) + strings
    return None if unknown else known


def utf8_span(
    source: SourceFile, line: int, col: int, end_line: int, end_col: int
) -> dict[str, int] | None:
    """Span columns of a native (1-based line, UTF-8 byte column) range, or None.

    None means the position does not lie in the file (line 0, a line past the end, a column
    past the end of its line, or an end before the start): callers emit a null span.
    """
    lines = source.lines
    if col < 0 or end_col < 0:
        return None
    try:
        bstart = lines.from_utf8_col(line, col)
        bend = lines.from_utf8_col(end_line, end_col)
    except ValueError:
        return None
    if bend < bstart or bend > lines.total_bytes:
        return None
    span = lines.span(bstart, bend)
    # A column past the end of its line rolls over into the next line: the round trip
    # through the canonical offsets must give back the native position.
    if (span["line"], span["col"], span["end_line"], span["end_col"]) != (
        line,
        col,
        end_line,
        end_col,
    ):
        return None
    return span


def failure_code(exc: BaseException) -> str:
    """The warning code for a parser failure: nesting limits vs. plain syntax errors."""
    if isinstance(exc, RecursionError | MemoryError):
        return RECURSION_LIMIT
    if isinstance(exc, SyntaxError) and any(m in str(exc.msg) for m in _NESTING_MESSAGES):
        return RECURSION_LIMIT
    return SYNTAX_ERROR


def failure_warning(source: SourceFile, exc: BaseException) -> FileWarning:
    """The structured warning for a parser failure, positioned where the parser says.

    SyntaxError.offset is a 1-based code-point column; it may point past the end of the
    line or the file (errors at EOF), in which case only ``line`` is kept.
    """
    kind = type(exc).__name__
    if isinstance(exc, SyntaxError):
        message = f"{kind}: {exc.msg}"
    else:
        text = str(exc)
        message = f"{kind}: {text}" if text else kind
    position: dict[str, int | None] = {}
    if isinstance(exc, SyntaxError) and exc.lineno:
        position["line"] = exc.lineno
        try:
            if exc.offset and exc.offset > 0:
                b = source.lines.from_codepoint_col(exc.lineno, exc.offset - 1)
                if b <= source.lines.total_bytes:
                    line, col = source.lines.position(b)
                    position.update(bstart=b, bend=b, line=line, col=col, end_line=line)
                    position["end_col"] = col
        except ValueError:
            pass
    return FileWarning(
        code=failure_code(exc),
        message=message,
        detail=encode_detail({"exception": kind}),
        **position,
    )


def span_unmapped_warning(count: int, first_line: int | None) -> FileWarning:
    """One warning summarizing the native positions of a file that could not be mapped."""
    return FileWarning(
        code=SPAN_UNMAPPED,
        message=f"{count} native position(s) could not be mapped to a byte span",
        detail=encode_detail({"count": count}),
        line=first_line,
    )


@contextmanager
def quiet_compiler() -> Iterator[None]:
    """Silence SyntaxWarning/DeprecationWarning from the compiler.

    A warnings filter set to ``error`` (pytest ``-W error``, ``PYTHONWARNINGS``) would
    otherwise turn a harmless invalid escape sequence into a SyntaxError.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


PARSER_FAILURES: Final = (SyntaxError, ValueError, RecursionError, MemoryError)


def guarded(source: SourceFile, parse: Callable[[], Any]) -> tuple[Any, FileWarning | None]:
    """Run a parser on one file: (result, None), or (None, warning) when it fails."""
    try:
        with quiet_compiler():
            return parse(), None
    except PARSER_FAILURES as exc:
        return None, failure_warning(source, exc)
