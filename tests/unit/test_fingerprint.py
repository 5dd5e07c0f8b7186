"""The §14 fingerprint: the Rust kernel and the pure-Python reference give the same value on
random tables (nulls, unicode, nested lists, every integer width, floats with NaN and -0.0),
and the fingerprint is order-insensitive, chunking-insensitive and duplicate-sensitive.

The module's tests run with the engine's kernel handed over (as the harness does); the
reference is computed beside it with the ``xxhash`` package's XXH64."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import pyarrow as pa
import pytest
import xxhash
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backends.contract.fingerprint import (
    fingerprint,
    reference_fingerprint,
    reference_row_hash_sum,
    row_encodings,
    row_hash_sum,
    use_kernel,
)

engine = pytest.importorskip("backends.rust", reason="the Rust extension is not built")


@pytest.fixture(autouse=True)
def _engine_kernel() -> Iterator[None]:
    use_kernel(engine.row_hash_sum)
    yield
    use_kernel(None)


# (Arrow type, strategy of its Python values)
SCALARS: list[tuple[pa.DataType, st.SearchStrategy[Any]]] = [
    (pa.string(), st.text(max_size=40)),
    (pa.large_string(), st.text(alphabet=st.characters(codec="utf-8"), max_size=12)),
    (pa.string_view(), st.text(max_size=30)),
    (pa.int8(), st.integers(-(2**7), 2**7 - 1)),
    (pa.int32(), st.integers(-(2**31), 2**31 - 1)),
    (pa.int64(), st.integers(-(2**63), 2**63 - 1)),
    (pa.uint64(), st.integers(0, 2**64 - 1)),
    (pa.uint16(), st.integers(0, 2**16 - 1)),
    (pa.float64(), st.floats(allow_nan=True, allow_infinity=True)),
    (pa.float32(), st.floats(width=32, allow_nan=True)),
    (pa.bool_(), st.booleans()),
]


@st.composite
def column_types(draw: st.DrawFn, depth: int = 0) -> tuple[pa.DataType, st.SearchStrategy[Any]]:
    if depth < 2 and draw(st.integers(0, 3)) == 0:
        item_type, item_values = draw(column_types(depth + 1))
        values = st.lists(st.none() | item_values, max_size=5)
        large = draw(st.booleans())
        return (pa.large_list(item_type) if large else pa.list_(item_type)), values
    scalar: tuple[pa.DataType, st.SearchStrategy[Any]] = draw(st.sampled_from(SCALARS))
    return scalar


@st.composite
def tables(draw: st.DrawFn) -> pa.Table:
    types = draw(st.lists(column_types(), min_size=1, max_size=5))
    rows = draw(st.integers(0, 30))
    columns = {}
    for n, (typ, values) in enumerate(types):
        data = draw(st.lists(st.none() | values, min_size=rows, max_size=rows))
        columns[f"c{n}"] = pa.array(data, type=typ)
    return pa.table(columns)


def test_the_row_hash_is_xxh64_seed_0_by_the_published_vectors() -> None:
    assert xxhash.xxh64_intdigest(b"") == 0xEF46DB3751D8E999
    assert xxhash.xxh64_intdigest(b"a") == 0xD24EC4F1A98C6E5B
    assert xxhash.xxh64_intdigest(b"abc") == 0x44BC2CF5AD770999


def test_without_a_kernel_handed_over_the_reference_computes_it() -> None:
    table = pa.table({"s": pa.array(["a", None, "b"]), "i": pa.array([1, 2, 2])})
    kernel = row_hash_sum(table)
    use_kernel(None)
    assert row_hash_sum(table) == reference_row_hash_sum(table) == kernel


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tables())
def test_the_kernel_equals_the_reference(table: pa.Table) -> None:
    assert engine.row_hash_sum(table, 1) == reference_row_hash_sum(table)
    assert fingerprint(table) == reference_fingerprint(table)


@settings(max_examples=100, deadline=None)
@given(tables(), st.randoms(use_true_random=False), st.integers(1, 4))
def test_order_chunks_and_threads_do_not_matter(table: pa.Table, rnd: Any, threads: int) -> None:
    order = list(range(table.num_rows))
    rnd.shuffle(order)
    rows = table.to_pylist()
    shuffled = pa.Table.from_pylist([rows[i] for i in order], schema=table.schema)
    cut = rnd.randint(0, table.num_rows)
    chunked = pa.concat_tables([shuffled.slice(0, cut), shuffled.slice(cut)])
    assert engine.row_hash_sum(chunked, threads) == engine.row_hash_sum(table, 1)
    assert fingerprint(chunked) == fingerprint(table)


@settings(max_examples=100, deadline=None)
@given(tables().filter(lambda t: t.num_rows > 0), st.data())
def test_a_duplicated_or_dropped_row_changes_it(table: pa.Table, data: st.DataObject) -> None:
    i = data.draw(st.integers(0, table.num_rows - 1))
    duplicated = pa.concat_tables([table, table.slice(i, 1)])
    dropped = pa.concat_tables([table.slice(0, i), table.slice(i + 1)])
    assert fingerprint(duplicated) != fingerprint(table)
    assert fingerprint(dropped) != fingerprint(table)


def test_encoding_is_the_documented_bytes() -> None:
    table = pa.table(
        {
            "s": pa.array(["é"]),
            "i": pa.array([-1], pa.int32()),
            "f": pa.array([-0.0]),
            "b": pa.array([True]),
            "l": pa.array([[None, "a"]]),
            "n": pa.array([None], pa.int64()),
        }
    )
    (row,) = row_encodings(table)
    assert row == (
        b"\x01" + (2).to_bytes(8, "little") + "é".encode()
        + b"\x01" + b"\xff" * 8
        + b"\x01" + b"\x00" * 8
        + b"\x01\x01"
        + b"\x01" + (2).to_bytes(8, "little") + b"\x00" + b"\x01" + (1).to_bytes(8, "little") + b"a"
        + b"\x00"
    )  # fmt: skip


def test_nans_and_signed_zeros_are_canonical() -> None:
    def fp(value: float) -> str:
        return fingerprint(pa.table({"f": pa.array([value])}))

    assert fp(-0.0) == fp(0.0)
    assert fp(math.nan) == fp(-math.nan)
    assert fp(1.0) != fp(0.0)


def test_an_unsupported_type_is_a_type_error_in_both() -> None:
    table = pa.table({"d": pa.array([1], pa.date32())})
    with pytest.raises(TypeError, match=r"(?i)date32"):
        fingerprint(table)
    with pytest.raises(TypeError, match="date32"):
        reference_fingerprint(table)
