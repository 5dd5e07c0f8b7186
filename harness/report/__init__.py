"""Parity reports: ``parity.json`` (versioned schema), ``parity.md``, ``junit.xml``,
``parity.html``."""
