"""A trap: importing or executing this module writes a sentinel file.

Analysers must only parse it. The sentinel path is taken from the environment variable
CODEANATOMY_SENTINEL_PATH when set, else /tmp/codeanatomy_sentinel_imported.
"""

import os


def _write_sentinel() -> None:
    path = os.environ.get("CODEANATOMY_SENTINEL_PATH", "/tmp/codeanatomy_sentinel_imported")
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(f"imported {__name__} from {__file__}\n")


_write_sentinel()
