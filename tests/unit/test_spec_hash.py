"""spec_hash: RFC 8785 canonical JSON of the full spec; equal in Python and in Rust."""

from __future__ import annotations

import hashlib
import json

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backends.contract.spec import (
    DatasetBinding,
    OutputSpec,
    SemanticExecutionSpec,
    SpecPolicy,
    ViewSpec,
    canonical_json,
    decode_spec,
    spec_hash,
)
from backends.rust import spec_hash as rust_spec_hash

names = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=12
)
specs = st.builds(
    SemanticExecutionSpec,
    inputs=st.lists(
        st.builds(
            DatasetBinding,
            name=names,
            uri=names,
            delta_version=st.integers(0, 2**40),
            schema_hash=st.none() | names,
        ),
        max_size=4,
    ).map(tuple),
    views=st.lists(
        st.builds(
            ViewSpec,
            name=names,
            kind=st.sampled_from(["normalize", "relate", "cpg", "output"]),
            inputs=st.lists(names, max_size=3).map(tuple),
        ),
        max_size=4,
    ).map(tuple),
    outputs=st.lists(st.builds(OutputSpec, table=names, view=names), max_size=3).map(tuple),
    policy=st.builds(
        SpecPolicy,
        use_scip=st.booleans(),
        min_confidence_bp=st.integers(0, 10_000),
        target_partitions=st.integers(0, 64),
    ),
)


def test_canonical_json_has_sorted_keys_and_every_field() -> None:
    text = canonical_json(SemanticExecutionSpec()).decode()
    assert text == (
        '{"contract_version":"cpg/1","inputs":[],"outputs":[],'
        '"policy":{"min_confidence_bp":0,"target_partitions":0,"use_scip":true},'
        '"spec_version":1,"views":[]}'
    )
    assert spec_hash(SemanticExecutionSpec()) == hashlib.sha256(text.encode()).hexdigest()


@given(specs)
@settings(max_examples=60, deadline=None)
def test_decode_of_canonical_json_round_trips(spec: SemanticExecutionSpec) -> None:
    assert decode_spec(canonical_json(spec)) == spec


@given(specs)
@settings(max_examples=200, deadline=None)
def test_rust_spec_hash_equals_python_spec_hash(spec: SemanticExecutionSpec) -> None:
    # Feed Rust a non-canonical rendering: reordered keys and whitespace must not matter.
    loose = json.dumps(msgspec.to_builtins(spec), indent=2, ensure_ascii=True, sort_keys=False)
    assert rust_spec_hash(loose) == spec_hash(spec)


def test_unknown_field_is_rejected_with_its_path() -> None:
    with pytest.raises(msgspec.ValidationError, match="bogus"):
        decode_spec(b'{"policy": {"bogus": 1}}')
