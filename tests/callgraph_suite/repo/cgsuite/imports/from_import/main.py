"""Imports a function by name and calls it at module level."""

from cgsuite.imports.from_import.tools import build

build()
