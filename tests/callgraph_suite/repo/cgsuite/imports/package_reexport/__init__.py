"""Program: the package re-exports a function of a submodule."""

from .core import start

__all__ = ["start"]
