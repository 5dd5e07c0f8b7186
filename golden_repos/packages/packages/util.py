"""Helpers shared by every subpackage."""

import json
import re

_SLUG_RE = re.compile(r"[^a-z0-9]+")


def slugify(text: str) -> str:
    """Lower-case ``text`` and join its words with dashes."""
    return _SLUG_RE.sub("-", text.lower()).strip("-")


def clamp(value: float, low: float, high: float) -> float:
    """Keep ``value`` inside ``[low, high]``."""
    return max(low, min(high, value))


def dump(data: dict) -> str:
    """Serialize with the standard library json (not the sibling module named json)."""
    return json.dumps(data, sort_keys=True)
