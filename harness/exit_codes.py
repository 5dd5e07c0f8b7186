"""Process exit codes of the ``codeanatomy`` command line (DESIGN §10).

They live in this dependency-free module so that every sub-command package (config,
killswitch, gates) can map its result to an exit code without importing ``harness.cli``,
which imports them.
"""

from __future__ import annotations

from typing import Final

EXIT_OK: Final = 0
"""The command did what was asked (a gate passed, a file was written, nothing to do)."""
EXIT_GATE_FAILED: Final = 1
"""A gate ran and its verdict is a failure."""
EXIT_USAGE: Final = 2
"""Bad arguments, a missing input, or an invalid configuration file."""
EXIT_ENGINE: Final = 3
"""The engine raised an error with a stable code and stage."""
EXIT_INTERNAL: Final = 4
"""An unexpected failure of codeanatomy itself (a bug or an I/O failure)."""
