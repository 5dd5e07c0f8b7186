"""Stage-0 ``bytecode`` extractor: code objects and name-bearing instructions (CONTRACT.md §5.3).

The file is compiled, never executed. ``optimize=0`` is passed explicitly so that the rows
do not depend on the interpreter's ``-O`` flag (asserts and ``__debug__`` branches stay).
Code objects are walked iteratively, depth first, nested code objects in ``co_consts``
order; each ``code`` row is followed by its ``instr`` rows in instruction order.
"""

from __future__ import annotations

import dis
import inspect
from types import CodeType
from typing import Any, Final

from backends.extract.registry import PER_FILE_VERSIONS
from backends.extract.result import FileResult, FileWarning
from backends.extract.source import SourceFile
from backends.extract.syntax_common import (
    NULL_SPAN,
    encode_detail,
    guarded,
    span_unmapped_warning,
    utf8_span,
)

NAME: Final = "bytecode"
VERSION: Final = PER_FILE_VERSIONS["bytecode"]

# §5.3: the instructions whose argument is a name. Opnames absent from this interpreter
# (LOAD_METHOD is gone in 3.12) simply never occur.
NAME_OPNAMES: Final = frozenset(
    {
        "LOAD_GLOBAL",
        "LOAD_NAME",
        "LOAD_ATTR",
        "LOAD_METHOD",
        "LOAD_DEREF",
        "LOAD_FAST",
        "LOAD_CLOSURE",
        "STORE_NAME",
        "STORE_GLOBAL",
        "STORE_FAST",
        "STORE_DEREF",
        "STORE_ATTR",
        "DELETE_NAME",
        "DELETE_GLOBAL",
        "DELETE_FAST",
        "IMPORT_NAME",
        "IMPORT_FROM",
    }
)

# Names of the inspect.CO_* flags, by bit.
_FLAG_NAMES: Final = tuple(
    sorted((name, getattr(inspect, name)) for name in dir(inspect) if name.startswith("CO_"))
)


def code_flags(flags: int) -> list[str]:
    """Sorted names of the ``inspect.CO_*`` flags set in ``co_flags``."""
    return [name for name, bit in _FLAG_NAMES if flags & bit]


def _code_qualname(code: CodeType) -> str:
    return "" if code.co_qualname == "<module>" else code.co_qualname


class _Emitter:
    """Rows of one file, with the count of positions that fall outside it."""

    def __init__(self, source: SourceFile) -> None:
        self.source = source
        self.rows: list[dict[str, Any]] = []
        self.unmapped = 0
        self.first_unmapped_line: int | None = None

    def code_row(self, code: CodeType) -> None:
        self.rows.append(
            {
                "ordinal": len(self.rows),
                "kind": "code",
                "code_qualname": _code_qualname(code),
                "opname": None,
                "name": code.co_name,
                "detail": encode_detail(
                    {
                        "argcount": code.co_argcount,
                        "posonlyargcount": code.co_posonlyargcount,
                        "kwonlyargcount": code.co_kwonlyargcount,
                        "flags": code_flags(code.co_flags),
                        "firstlineno": code.co_firstlineno,
                    }
                ),
                **NULL_SPAN,
                "line": code.co_firstlineno,
            }
        )

    def instr_rows(self, code: CodeType) -> None:
        qualname = _code_qualname(code)
        for instr in dis.get_instructions(code):
            if instr.opname not in NAME_OPNAMES:
                continue
            self.rows.append(
                {
                    "ordinal": len(self.rows),
                    "kind": "instr",
                    "code_qualname": qualname,
                    "opname": instr.opname,
                    "name": str(instr.argval),
                    "detail": None,
                    **self.span(instr.positions),
                }
            )

    def span(self, pos: dis.Positions | None) -> Any:
        if pos is None or pos.lineno is None:
            return NULL_SPAN
        if pos.end_lineno is None or pos.col_offset is None or pos.end_col_offset is None:
            return {**NULL_SPAN, "line": pos.lineno}
        span = utf8_span(
            self.source, pos.lineno, pos.col_offset, pos.end_lineno, pos.end_col_offset
        )
        if span is None:
            self.unmapped += 1
            if self.first_unmapped_line is None:
                self.first_unmapped_line = pos.lineno
            return NULL_SPAN
        return span


def extract(source: SourceFile) -> FileResult:
    """The ``bytecode`` rows of one file, or a syntax/recursion warning and no rows."""
    module, warning = guarded(
        source,
        lambda: compile(source.text, source.path, "exec", dont_inherit=True, optimize=0),
    )
    if warning is not None:
        return FileResult(rows=[], warnings=[warning])
    emitter = _Emitter(source)
    stack: list[CodeType] = [module]
    while stack:
        code = stack.pop()
        emitter.code_row(code)
        emitter.instr_rows(code)
        stack.extend(c for c in reversed(code.co_consts) if isinstance(c, CodeType))
    warnings: list[FileWarning] = []
    if emitter.unmapped:
        warnings.append(span_unmapped_warning(emitter.unmapped, emitter.first_unmapped_line))
    return FileResult(rows=emitter.rows, warnings=warnings)
