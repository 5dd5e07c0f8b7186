"""The ``SemanticExecutionSpec``: what a backend must compute, from which pinned inputs.

Both backends consume the same spec. Its identity is ``spec_hash``: the SHA-256 (lowercase hex)
of the RFC 8785 (JCS) canonical JSON of the spec with every field present (defaults included).
The Rust engine computes the same hash from the same JSON (``backends.rust.spec_hash``).
"""

from __future__ import annotations

import hashlib
from typing import Literal

import msgspec
import rfc8785

from backends.contract.schemas import CONTRACT_VERSION

SPEC_VERSION = 1

ViewKind = Literal["normalize", "relate", "cpg", "output"]


class DatasetBinding(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """An input Delta table pinned to one version."""

    name: str
    uri: str
    delta_version: int
    schema_hash: str | None = None


class ViewSpec(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """One named view of the semantics and the views/inputs it reads."""

    name: str
    kind: ViewKind
    inputs: tuple[str, ...]


class OutputSpec(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """A requested output table, produced by one view."""

    table: str
    view: str


class SpecPolicy(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """Knobs that change results or execution. Confidence is in basis points (no floats)."""

    use_scip: bool = True
    min_confidence_bp: int = 0
    target_partitions: int = 0


class SemanticExecutionSpec(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """The full spec (CONTRACT.md §9)."""

    spec_version: int = SPEC_VERSION
    contract_version: str = CONTRACT_VERSION
    inputs: tuple[DatasetBinding, ...] = ()
    views: tuple[ViewSpec, ...] = ()
    outputs: tuple[OutputSpec, ...] = ()
    policy: SpecPolicy = msgspec.field(default_factory=SpecPolicy)


def canonical_json(spec: SemanticExecutionSpec) -> bytes:
    """RFC 8785 canonical JSON of the spec, every field present."""
    return rfc8785.dumps(msgspec.to_builtins(spec))


def spec_hash(spec: SemanticExecutionSpec) -> str:
    """SHA-256 hex digest of :func:`canonical_json`."""
    return hashlib.sha256(canonical_json(spec)).hexdigest()


def decode_spec(data: bytes | str) -> SemanticExecutionSpec:
    """Decode and validate a spec from JSON; ``msgspec.ValidationError`` names the bad path."""
    return msgspec.json.decode(data, type=SemanticExecutionSpec)
