"""How much an item costs after a discount."""

from __future__ import annotations

from ..models.item import Item
from ..util import clamp


def price_of(item: Item, discount: float) -> float:
    """The discounted price, never negative and never above the list price."""
    return clamp(item.price * (1.0 - discount), 0.0, item.price)
