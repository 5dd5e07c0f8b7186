"""Plugins loaded by name."""
