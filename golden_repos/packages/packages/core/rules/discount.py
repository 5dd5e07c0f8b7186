"""A flat-rate discount."""

from __future__ import annotations

from ...models.item import Item
from ..pricing import price_of


class Discount:
    """Takes ``rate`` off every item."""

    def __init__(self, rate: float) -> None:
        self.rate = rate

    def apply(self, item: Item) -> float:
        """The price of ``item`` with this discount."""
        return price_of(item, self.rate)
