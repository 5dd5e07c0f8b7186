"""Versions of everything a run depends on (printed by ``codeanatomy version``)."""

from __future__ import annotations

import sys
from importlib import metadata

from backends.contract.schemas import CONTRACT_VERSION
from backends.contract.spec import SPEC_VERSION


def _dist(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


def versions() -> dict[str, str]:
    """codeanatomy, contract, spec, Python, and the engines' libraries."""
    try:
        from harness.adapters.rust import engine_version

        engine = engine_version()
    except ImportError as exc:
        engine = f"unavailable ({exc})"
    return {
        "codeanatomy": _dist("codeanatomy"),
        "contract": CONTRACT_VERSION,
        "spec_version": str(SPEC_VERSION),
        "python": sys.version.split()[0],
        "engine": engine,
        "datafusion": _dist("datafusion"),
        "deltalake": _dist("deltalake"),
        "pyarrow": _dist("pyarrow"),
    }
