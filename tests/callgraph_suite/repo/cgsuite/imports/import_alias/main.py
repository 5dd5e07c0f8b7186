"""Imports a function under another name and calls the alias."""

from cgsuite.imports.import_alias.tools import build as make

make()
