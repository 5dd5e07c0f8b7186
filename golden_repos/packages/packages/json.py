"""A sibling module that shadows the standard library name inside this package only.

``import json`` elsewhere in the package still means the standard library (absolute imports);
``from . import json`` means this file.
"""


def encode_price(value: float) -> str:
    """Render a price the way the shop prints it."""
    return f"{value:.2f}"
