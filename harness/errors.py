"""Engine failures as the harness sees them: a stable code and stage, whatever the backend.

Adapters translate their backend's exceptions into :class:`EngineFailure`, so the CLI, the
gateway and the gates match on ``code`` and ``stage`` and never parse a message. Defined at the
bottom of the harness (importing only the contract's code register): the adapters raise them,
and every layer above catches them.
"""

from __future__ import annotations

from typing import Any

from backends.contract.codes import ERROR_CODES


class EngineFailure(Exception):
    """A backend failed with a registered error code (codes.py ``ERROR_CODES``)."""

    def __init__(
        self,
        backend: str,
        code: str,
        stage: str,
        message: str,
        context: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(f"[{backend}] {code} ({stage}): {message}")
        self.backend = backend
        self.code = code if code in ERROR_CODES else "INTERNAL_ERROR"
        self.stage = stage
        self.message = message
        self.context = dict(context or {})
        if code not in ERROR_CODES:
            self.context.setdefault("unregistered_code", code)

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape printed by ``--json`` commands."""
        return {
            "backend": self.backend,
            "code": self.code,
            "stage": self.stage,
            "message": self.message,
            "context": self.context,
        }


class BackendUnavailable(Exception):
    """A backend cannot be loaded on this machine (for example the Rust extension)."""

    def __init__(self, backend: str, reason: str) -> None:
        super().__init__(f"backend {backend!r} is unavailable: {reason}")
        self.backend = backend
        self.reason = reason


class PinnedVersionMissing(EngineFailure):
    """A run pins a Delta version its table no longer has (vacuumed, recreated, log entry gone).

    An EngineFailure with the register code ``DELTA_VERSION_MISSING``, the code the engines
    raise for the same fault, so the commands that read runs (``compare``, shadow, the gates)
    report it like an engine error (exit 3) instead of comparing a different version.
    """

    def __init__(self, uri: str, version: int, latest_version: int | None, reason: str) -> None:
        super().__init__(
            "harness",
            "DELTA_VERSION_MISSING",
            "register",
            f"{uri}: pinned version {version} cannot be read: {reason}",
            {"uri": uri, "delta_version": version, "latest_version": latest_version},
        )
        self.uri = uri
        self.version = version
        self.latest_version = latest_version


class UsageError(ValueError):
    """A user-given input is unusable; ``code`` is stable, ``message`` says what to do."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    def to_dict(self) -> dict[str, str]:
        """The ``error`` object of a ``--json`` answer."""
        return {"code": self.code, "message": self.message}
