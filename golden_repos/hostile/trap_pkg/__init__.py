"""A package whose __init__ is a trap: importing the package writes a sentinel file."""

import os


def _write_sentinel() -> None:
    path = os.environ.get("CODEANATOMY_SENTINEL_PATH", "/tmp/codeanatomy_sentinel_imported")
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(f"imported {__name__} from {__file__}\n")


_write_sentinel()
