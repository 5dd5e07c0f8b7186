"""The engine failures under their first import path; defined in :mod:`harness.errors`, below
the adapters that raise them (so that ``harness.run`` and ``harness.adapters`` do not import
each other)."""

from __future__ import annotations

from harness.errors import BackendUnavailable, EngineFailure, PinnedVersionMissing

__all__ = ["BackendUnavailable", "EngineFailure", "PinnedVersionMissing"]
