"""The one exception of the legacy backend: a stable ``code`` and ``stage`` from the registry."""

from __future__ import annotations

from typing import Any

from backends.contract.codes import ERROR_CODES


class LegacyError(Exception):
    """An engine error of the legacy backend (codes from ``codes.ERROR_CODES``).

    Callers match on ``code`` (and ``stage``), never on the message; ``context`` names what
    failed (a view, a table, a cycle).
    """

    def __init__(self, code: str, message: str, context: dict[str, Any] | None = None) -> None:
        info = ERROR_CODES[code]  # KeyError: an unregistered code is a bug in this backend
        super().__init__(f"{code}: {message}")
        self.code = code
        self.stage = str(info.stage)
        self.message = message
        self.context: dict[str, Any] = dict(context or {})
