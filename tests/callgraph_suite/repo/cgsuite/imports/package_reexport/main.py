"""Imports the re-exported name from the package and calls it."""

from cgsuite.imports.package_reexport import start

start()
