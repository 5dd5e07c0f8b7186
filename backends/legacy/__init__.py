"""The legacy backend: Apache Hamilton view modules scheduled with rustworkx, semantics in
Python over pyarrow (CONTRACT §6-§8, §12-§13). A build (timed, recorded in ``run.json``) is
the harness's: ``harness.run.build`` runs these stages through ``harness/adapters/legacy.py``."""

from __future__ import annotations

from backends.legacy.driver import run_semantics
from backends.legacy.errors import LegacyError
from backends.legacy.schedule import plan
from backends.legacy.staged import run_extraction

__all__ = ["LegacyError", "plan", "run_extraction", "run_semantics"]
