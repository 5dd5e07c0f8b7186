"""A setup script that is a trap: running or importing it writes a sentinel file."""

import os


def _write_sentinel() -> None:
    path = os.environ.get("CODEANATOMY_SENTINEL_PATH", "/tmp/codeanatomy_sentinel_imported")
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(f"executed {__name__} from {__file__}\n")


_write_sentinel()

if __name__ == "__main__":
    from setuptools import setup

    setup(name="hostile", version="0.0.0", py_modules=["ok_module"])
