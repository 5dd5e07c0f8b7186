"""Typed facade over the compiled engine ``backends.rust._engine`` (crate codeanatomy_engine).

The compiled module is private: everything callers need is re-exported here with types and
docstrings. ``ImportError`` from this package means the extension is not built; the gateway
falls back to the legacy backend in that case (DESIGN §8).
"""

from __future__ import annotations

from backends.rust import _engine


def engine_version() -> str:
    """The engine's version, with the DataFusion and delta-rs versions it was built on."""
    return _engine.version()


def spec_hash(spec_json: str) -> str:
    """SHA-256 hex of the RFC 8785 canonical form of a spec JSON document (CONTRACT.md §9).

    Equal to ``backends.contract.spec.spec_hash`` for the same spec.
    Raises ``ValueError`` when the text is not JSON.
    """
    return _engine.spec_hash(spec_json)


# Every export of the compiled module and the facade function that wraps it
# (tests/unit/test_rust_facade.py fails when an export has no wrapper).
WRAPPED_EXPORTS: dict[str, str] = {"version": "engine_version", "spec_hash": "spec_hash"}

__all__ = ["WRAPPED_EXPORTS", "engine_version", "spec_hash"]
