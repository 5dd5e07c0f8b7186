"""Tests (a fixture: parsed, never run)."""

from inventory.stock import Stock


def test_receive_then_ship() -> None:
    stock = Stock()
    stock.receive("apple", 5)
    assert stock.ship("apple", 2) == 3
