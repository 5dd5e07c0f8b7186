"""The hand-written expected facts of a golden repository (``expected.json``).

A fact is something any correct CPG of the repository must contain; facts never say what a
CPG must not contain. Qualnames are *full* qualnames (CONTRACT §1): dotted module name, a dot,
then CPython's ``__qualname__``; a MODULE's qualname is its module name; a PARAMETER's is its
function's full qualname, a dot and the parameter name.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import msgspec

from backends.contract.codes import WARNING_CODES

NodeKind = Literal["MODULE", "CLASS", "FUNCTION", "PARAMETER"]
EdgeKind = Literal["CALLS", "INHERITS_FROM", "OVERRIDES", "IMPORTS", "DEFINES", "HAS_PARAMETER"]
TargetKind = Literal[
    "module", "package", "namespace_package", "attribute", "external", "unresolved"
]
Classification = Literal["stdlib", "third_party", "unresolved"]


class ExpectedError(ValueError):
    """An ``expected.json`` does not decode or violates a rule; the message names the file."""


class _Fact(msgspec.Struct, frozen=True, forbid_unknown_fields=True, tag_field="fact"):
    pass


class NodeFact(_Fact, frozen=True, tag="node"):
    """A node of ``kind`` with this full qualname exists."""

    kind: NodeKind
    qualname: str


class EdgeFact(_Fact, frozen=True, tag="edge"):
    """An edge of ``kind`` from the node named ``src`` to the node named ``dst`` exists."""

    kind: EdgeKind
    src: str
    dst: str


class ImportFact(_Fact, frozen=True, tag="import"):
    """An import in ``path`` of ``module`` (as written, leading dots kept) resolves so.

    ``name`` is the imported name of a from-import (``*`` for a star import) and null for a
    plain ``import``; ``resolved_path`` is the repo-relative file, null when there is none.
    """

    path: str
    module: str
    name: str | None
    target_kind: TargetKind
    resolved_path: str | None


class ExternalFact(_Fact, frozen=True, tag="external"):
    """The absolute module ``module`` is imported and leaves the repo, classified so."""

    module: str
    classification: Classification


class DiagnosticFact(_Fact, frozen=True, tag="diagnostic"):
    """A diagnostic with warning ``code`` is reported for ``path``."""

    path: str
    code: str


Fact = NodeFact | EdgeFact | ImportFact | ExternalFact | DiagnosticFact


class Expected(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """All expected facts of one golden repository."""

    repo: str
    facts: tuple[Fact, ...]


def decode_expected(data: bytes, *, source: str = "<expected.json>") -> Expected:
    """Decode and validate expected facts; ExpectedError names ``source`` and the field."""
    try:
        expected = msgspec.json.decode(data, type=Expected)
    except msgspec.DecodeError as exc:
        raise ExpectedError(f"{source}: {exc}") from exc
    problems: list[str] = []
    seen: dict[Fact, int] = {}
    for i, fact in enumerate(expected.facts):
        if fact in seen:
            problems.append(f"duplicate of fact {seen[fact]} - at `$.facts[{i}]`")
        seen.setdefault(fact, i)
        if isinstance(fact, DiagnosticFact) and fact.code not in WARNING_CODES:
            problems.append(f"unregistered warning code {fact.code!r} - at `$.facts[{i}].code`")
    if problems:
        raise ExpectedError(f"{source}: " + "; ".join(problems))
    return expected


def load_expected(path: Path) -> Expected:
    """Read and validate one ``expected.json``."""
    return decode_expected(path.read_bytes(), source=str(path))
