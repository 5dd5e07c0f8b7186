"""Checkout: ties the subpackages together through every kind of package import."""

from __future__ import annotations

import packages.core.rules.discount as disc_mod
import packages.util

from . import pricing
from .. import json as local_json
from .. import models
from ..util import clamp as bound
from .rules.discount import Discount


def checkout(items: list[models.Item], rate: float) -> float:
    """Total price of ``items`` with a flat discount."""
    rule = Discount(rate)
    total = 0.0
    for item in items:
        total += rule.apply(item)
    return bound(total, 0.0, 1e9)


def quick_total(items: list[models.Item]) -> float:
    """Total price without any discount."""
    total = 0.0
    for item in items:
        total += pricing.price_of(item, 0.0)
    return total


def default_rule() -> disc_mod.Discount:
    """The shop-wide default discount."""
    return disc_mod.Discount(0.1)


def receipt_line(item: models.Item) -> str:
    """One line of a receipt."""
    name = packages.util.slugify(item.name)
    return name + " " + local_json.encode_price(item.price)
