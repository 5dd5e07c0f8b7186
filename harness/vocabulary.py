"""The backend vocabulary, defined once: the two backends and the modes a build is served in.

Every other module (the configuration, routing, the adapters, the gates, the command line)
imports these names; none spells the list out again. This module imports nothing of ours, so
any module can use it without an import cycle.
"""

from __future__ import annotations

from typing import Final, Literal, get_args

BackendName = Literal["legacy", "rust"]
"""One of the two backends: a side of a shadow run, the engine a single build uses."""
Mode = Literal[BackendName, "shadow"]
"""How a build is served: by one backend alone, or by both in shadow mode."""

BACKENDS: Final[tuple[BackendName, ...]] = get_args(BackendName)
"""The backends, legacy first (the order of gate checks and of the adapters' listing)."""
MODES: Final[tuple[Mode, ...]] = get_args(Mode)
"""The modes: each backend, then ``shadow``."""


def other_backend(backend: BackendName) -> BackendName:
    """The backend that is not ``backend`` (the default candidate of a primary)."""
    return "rust" if backend == "legacy" else "legacy"
