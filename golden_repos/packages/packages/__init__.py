"""A tiny shop library laid out as nested packages with relative imports."""

from . import util
from .models import Item

__all__ = ["Item", "util"]
