"""An append-only ledger."""

from __future__ import annotations


class Ledger:
    def __init__(self) -> None:
        self.entries: list[tuple[str, int]] = []

    def record(self, sku: str, qty: int) -> None:
        self.entries.append((sku, qty))

    def balance(self, sku: str) -> int:
        return sum(qty for name, qty in self.entries if name == sku)
