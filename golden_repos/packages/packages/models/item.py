"""The item sold by the shop."""

from __future__ import annotations

from ..util import slugify


class Item:
    """A named thing with a price."""

    def __init__(self, name: str, price: float) -> None:
        self.name = name
        self.price = price

    def slug(self) -> str:
        """URL-safe name."""
        return slugify(self.name)
