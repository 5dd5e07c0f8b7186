"""What a per-file extractor returns: rows for its contract table, and structured warnings."""

from __future__ import annotations

from typing import Any

import msgspec


class FileWarning(msgspec.Struct, frozen=True, kw_only=True):
    """A structured warning about one file (code from backends.contract.codes)."""

    code: str
    message: str
    detail: str | None = None
    bstart: int | None = None
    bend: int | None = None
    line: int | None = None
    col: int | None = None
    end_line: int | None = None
    end_col: int | None = None


class FileResult(msgspec.Struct, frozen=True, kw_only=True):
    """Rows (column name -> value, without ``path``) and warnings of one extractor on one file.

    Rows are in the extractor's deterministic order; ``ordinal`` is their 0-based index.
    """

    rows: list[dict[str, Any]]
    warnings: list[FileWarning] = []
