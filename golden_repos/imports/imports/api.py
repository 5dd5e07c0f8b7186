"""A module with an explicit ``__all__``."""

__all__ = ["PublicClass", "public_fn"]


def public_fn() -> str:
    return "public"


def extra_fn() -> str:
    """Defined here but not exported by ``from .api import *``."""
    return "extra"


def _private() -> str:
    return "private"


class PublicClass:
    def run(self) -> str:
        return public_fn()
