"""Stable IDs match the shared vectors (computed independently with coreutils sha256sum)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from backends.contract.ids import edge_id, normalize_scip_symbol, span_node_id, stable_id

VECTORS = json.loads(
    (Path(__file__).parents[2] / "backends/contract/id_vectors.json").read_text("utf-8")
)["vectors"]


@pytest.mark.parametrize("vector", VECTORS, ids=lambda v: v["kind"])
def test_stable_id_matches_shared_vector(vector: dict[str, object]) -> None:
    fields = vector["fields"]
    assert isinstance(fields, list)
    assert stable_id(str(vector["kind"]), fields) == vector["id"]


def test_span_node_id_and_edge_id_are_stable_id_of_their_fields() -> None:
    assert span_node_id("FUNCTION", "pkg/mod.py", 10, 42) == stable_id(
        "FUNCTION", ["pkg/mod.py", 10, 42]
    )
    a, b = "0" * 32, "f" * 32
    assert edge_id("CALLS", a, b) == stable_id("CALLS", [a, b])
    assert edge_id("CALLS", a, b) != edge_id("CALLS", b, a)


def test_kind_is_part_of_the_id() -> None:
    assert span_node_id("FILE", "a.py", 0, 1) != span_node_id("MODULE", "a.py", 0, 1)


def test_booleans_are_rejected_as_fields() -> None:
    with pytest.raises(TypeError):
        stable_id("X", [True])


@pytest.mark.parametrize(
    ("raw", "normalized"),
    [
        (
            "scip-python python golden 0.1 `pkg.mod`/f().",
            "scip-python python golden . `pkg.mod`/f().",
        ),
        (
            "scip-python python golden abc123 `pkg`/C#m().",
            "scip-python python golden . `pkg`/C#m().",
        ),
        ("local 12", "local 12"),
        ("scip-python python my  pkg 1.0 `m`/x.", "scip-python python my  pkg . `m`/x."),
        ("malformed", "malformed"),
    ],
)
def test_scip_symbol_version_is_normalized(raw: str, normalized: str) -> None:
    assert normalize_scip_symbol(raw) == normalized
