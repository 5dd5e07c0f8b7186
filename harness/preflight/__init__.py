"""Deletion preflight: the static scan that gates deleting the legacy stack (DESIGN §8).

``scan(root)`` finds every import of ``hamilton``, ``rustworkx``, ``backends.legacy`` and
``harness.adapters.legacy`` outside the deletion set (static, relative, dynamic and
``__import__`` forms, and transitively through the project's import graph), plus legacy
dependency declarations, entry points, ``[hamilton]`` config sections and CI references.
"""

from __future__ import annotations

from harness.preflight.layout import AllowListError
from harness.preflight.report import SCHEMA_VERSION, Blocker, PreflightReport, Problem
from harness.preflight.scanner import scan
from harness.preflight.stack import DEFAULT_ALLOW, LEGACY_DISTRIBUTIONS, LEGACY_MODULES

__all__ = [
    "DEFAULT_ALLOW",
    "LEGACY_DISTRIBUTIONS",
    "LEGACY_MODULES",
    "SCHEMA_VERSION",
    "AllowListError",
    "Blocker",
    "PreflightReport",
    "Problem",
    "scan",
]
