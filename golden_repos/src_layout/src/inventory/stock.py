"""Stock levels."""

from __future__ import annotations

from ._internal.ledger import Ledger


class Stock:
    def __init__(self) -> None:
        self.ledger = Ledger()
        self.levels: dict[str, int] = {}

    def receive(self, sku: str, qty: int) -> int:
        self.levels[sku] = self.levels.get(sku, 0) + qty
        self.ledger.record(sku, qty)
        return self.levels[sku]

    def ship(self, sku: str, qty: int) -> int:
        return self.receive(sku, -qty)
