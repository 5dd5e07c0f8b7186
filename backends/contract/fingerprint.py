"""Order-insensitive, duplicate-sensitive table fingerprints (CONTRACT.md §14).

Two tables with the same schema and the same multiset of rows have the same fingerprint,
whatever their row order or chunking; a duplicated row changes it. The encoding is defined
byte by byte so that another implementation can reproduce it exactly.

Two implementations give the same value. The pure-Python reference here
(:func:`reference_fingerprint`: this encoding, hashed with the ``xxhash`` package's XXH64) is
what the property tests pin the engine's kernel to (``backends.rust.row_hash_sum``: Arrow
buffers, one thread per core). The contract never imports an engine (import-linter holds this,
pyproject.toml): whoever loads the engine hands its kernel over with :func:`use_kernel` (the
harness does, in ``harness.adapters``), and :func:`fingerprint` uses it from then on.
"""

from __future__ import annotations

import hashlib
import math
import struct
from collections.abc import Callable, Iterable
from typing import Any

import pyarrow as pa
import pyarrow.types as pat
import xxhash

_MASK = (1 << 64) - 1
_NAN = b"\x00\x00\x00\x00\x00\x00\xf8\x7f"
VERSION = b"cpgfp2"
_US = b"\x1f"
_NULL = b"\x00"
_SOME = b"\x01"
_Q = struct.Struct("<q")
_UQ = struct.Struct("<Q")
_D = struct.Struct("<d")

Encoder = Callable[[Any], bytes]
RowHashSum = Callable[[pa.Table], tuple[int, int]]
"""A §14 kernel: ``(rows, sum of XXH64 row hashes mod 2^64)`` of a table."""

# The engine's kernel once handed over (at most one item); empty: the Python reference.
_KERNEL: list[RowHashSum] = []


def schema_string(schema: pa.Schema) -> str:
    """``name:type:nullable`` per column, joined by ``,`` (types as Arrow prints them)."""
    return ",".join(f"{f.name}:{f.type}:{'true' if f.nullable else 'false'}" for f in schema)


def schema_hash(schema: pa.Schema) -> str:
    """SHA-256 hex of :func:`schema_string`."""
    return hashlib.sha256(schema_string(schema).encode()).hexdigest()


def _encode_str(value: str) -> bytes:
    data = value.encode()
    return _SOME + _UQ.pack(len(data)) + data


def _encode_int(value: int) -> bytes:
    return _SOME + _UQ.pack(value & _MASK)


def _encode_float(value: float) -> bytes:
    if math.isnan(value):
        return _SOME + _NAN
    return _SOME + _D.pack(0.0 if value == 0.0 else value)


def _encode_bool(value: bool) -> bytes:
    return b"\x01\x01" if value else b"\x01\x00"


def _encoder(typ: pa.DataType) -> Encoder:
    if pat.is_string(typ) or pat.is_large_string(typ) or pat.is_string_view(typ):
        return _encode_str
    if pat.is_integer(typ):
        return _encode_int
    if pat.is_floating(typ):
        return _encode_float
    if pat.is_boolean(typ):
        return _encode_bool
    if pat.is_list(typ) or pat.is_large_list(typ):
        item = _encoder(typ.value_type)

        def encode_list(values: list[Any]) -> bytes:
            parts = [_SOME, _UQ.pack(len(values))]
            parts.extend(_NULL if v is None else item(v) for v in values)
            return b"".join(parts)

        return encode_list
    raise TypeError(f"no fingerprint encoding for Arrow type {typ}")


def _column_bytes(column: pa.ChunkedArray, encoder: Encoder) -> list[bytes]:
    return [_NULL if v is None else encoder(v) for v in column.to_pylist()]


def row_encodings(table: pa.Table) -> Iterable[bytes]:
    """The §14 encoding of every row."""
    columns = [
        _column_bytes(table.column(i), _encoder(field.type)) for i, field in enumerate(table.schema)
    ]
    for parts in zip(*columns, strict=True):
        yield b"".join(parts)


def row_hashes(table: pa.Table) -> Iterable[int]:
    """The 64-bit hash of every row: XXH64 (seed 0) of its encoding."""
    return map(xxhash.xxh64_intdigest, row_encodings(table))


def reference_row_hash_sum(table: pa.Table) -> tuple[int, int]:
    """``(rows, sum of row hashes mod 2^64)`` computed in Python."""
    total = 0
    for h in row_hashes(table):
        total = (total + h) & _MASK
    return table.num_rows, total


def use_kernel(kernel: RowHashSum | None) -> None:
    """Compute :func:`row_hash_sum` with ``kernel`` from now on (None: the Python reference).

    The kernel must give the reference's value on every table (the property tests of
    ``tests/unit/test_fingerprint.py`` pin the engine's to it): only the speed changes.
    """
    _KERNEL.clear()
    if kernel is not None:
        _KERNEL.append(kernel)


def row_hash_sum(table: pa.Table) -> tuple[int, int]:
    """``(rows, sum of row hashes mod 2^64)``: the kernel handed over, else the reference."""
    if _KERNEL:
        return _KERNEL[0](table)
    return reference_row_hash_sum(table)


def _digest(schema: pa.Schema, rows: int, total: int) -> str:
    digest = hashlib.sha256()
    digest.update(VERSION + _US + schema_string(schema).encode() + _US)
    digest.update(_UQ.pack(rows) + _UQ.pack(total))
    return digest.hexdigest()


def fingerprint(table: pa.Table) -> str:
    """The §14 fingerprint of ``table``."""
    return _digest(table.schema, *row_hash_sum(table))


def reference_fingerprint(table: pa.Table) -> str:
    """The §14 fingerprint of ``table`` computed entirely in Python."""
    return _digest(table.schema, *reference_row_hash_sum(table))
