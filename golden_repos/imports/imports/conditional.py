"""Imports under conditions, in try blocks, for type checking only, and dynamic imports."""

from __future__ import annotations

import importlib
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .api import PublicClass

try:
    import tomllib as toml_reader
except ImportError:
    import nonexistent_toml_backport as toml_reader

if sys.platform == "win32":
    import winreg
else:
    winreg = None

try:
    import yaml
except ImportError:
    yaml = None

import nonexistent_vendor_lib


def load_default():
    """A dynamic import with a literal module name."""
    return importlib.import_module("imports.plugins.default")


def load_named(name: str):
    """A dynamic import whose target cannot be known statically."""
    return importlib.import_module("imports.plugins." + name)


def load_json():
    """The builtin ``__import__`` with a literal."""
    return __import__("json")


def late() -> PublicClass:
    """A function-level import."""
    from .api import PublicClass as Late

    return Late()


def vendor_version() -> str:
    return nonexistent_vendor_lib.__version__ + str(toml_reader) + str(yaml) + str(winreg)
