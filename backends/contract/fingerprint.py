"""Order-insensitive, duplicate-sensitive table fingerprints (CONTRACT.md §14).

Two tables with the same schema and the same multiset of rows have the same fingerprint,
whatever their row order or chunking; a duplicated row changes it. The encoding is defined
byte by byte so that another implementation (the Rust engine) can reproduce it exactly.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Callable, Iterable
from typing import Any

import pyarrow as pa
import pyarrow.types as pat

_MASK = (1 << 64) - 1
_US = b"\x1f"
_NULL = b"\x00"
_SOME = b"\x01"
_Q = struct.Struct("<q")
_UQ = struct.Struct("<Q")
_D = struct.Struct("<d")

Encoder = Callable[[Any], bytes]


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
    return _SOME + _Q.pack(value)


def _encode_float(value: float) -> bytes:
    return _SOME + _D.pack(0.0 if value == 0.0 else value)


def _encode_bool(value: bool) -> bytes:
    return b"\x01\x01" if value else b"\x01\x00"


def _encoder(typ: pa.DataType) -> Encoder:
    if pat.is_string(typ) or pat.is_large_string(typ):
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


def row_hashes(table: pa.Table) -> Iterable[int]:
    """The 64-bit hash of every row (first 8 bytes of SHA-256 of its encoding)."""
    columns = [
        _column_bytes(table.column(i), _encoder(field.type)) for i, field in enumerate(table.schema)
    ]
    sha = hashlib.sha256
    unpack = _UQ.unpack_from
    for parts in zip(*columns, strict=True):
        yield unpack(sha(b"".join(parts)).digest())[0]


def fingerprint(table: pa.Table) -> str:
    """The §14 fingerprint of ``table``."""
    total = 0
    for h in row_hashes(table):
        total = (total + h) & _MASK
    digest = hashlib.sha256()
    digest.update(b"cpgfp1" + _US + schema_string(table.schema).encode() + _US)
    digest.update(_UQ.pack(table.num_rows) + _UQ.pack(total))
    return digest.hexdigest()
