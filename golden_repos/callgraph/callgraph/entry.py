"""The entry point: module-level calls belong to the module."""

from __future__ import annotations

from .pipeline import Doubler
from .service import fact, total_of


def run() -> int:
    return total_of([1, 2, 3]) + fact(4) + Doubler().run(5)


if __name__ == "__main__":
    run()
