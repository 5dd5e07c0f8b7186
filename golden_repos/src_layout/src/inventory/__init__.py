"""Stock keeping, laid out under src/."""

from .stock import Stock

__all__ = ["Stock"]
