"""A maintenance script at the repository root, outside src/."""

import inventory
from inventory._internal import ledger


def restock(sku: str) -> int:
    return inventory.Stock().receive(sku, 10) + len(ledger.Ledger().entries)
