"""The legacy backend: Apache Hamilton view modules scheduled with rustworkx, semantics in
Python over pyarrow (CONTRACT §6-§8, §12-§13)."""

from __future__ import annotations

from backends.legacy.build import LegacyBuild, build
from backends.legacy.driver import run_semantics
from backends.legacy.errors import LegacyError
from backends.legacy.schedule import plan

__all__ = ["LegacyBuild", "LegacyError", "build", "plan", "run_semantics"]
