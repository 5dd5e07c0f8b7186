"""Order-insensitive, duplicate-sensitive table fingerprints (CONTRACT.md §14).

Two tables with the same schema and the same multiset of rows have the same fingerprint,
whatever their row order or chunking; a duplicated row changes it. The encoding is defined
byte by byte so that another implementation can reproduce it exactly.

Two implementations give the same value. :func:`fingerprint` uses the Rust kernel of the
engine (``backends.rust.row_hash_sum``: Arrow buffers, one thread per core) whenever the
extension is built. The pure-Python reference here (:func:`reference_fingerprint`, with its own
XXH64) is what the property tests pin the kernel to, and the fallback when the extension cannot
load.
"""

from __future__ import annotations

import hashlib
import math
import struct
from collections.abc import Callable, Iterable
from typing import Any

import pyarrow as pa
import pyarrow.types as pat

_MASK = (1 << 64) - 1
_P1 = 0x9E3779B185EBCA87
_P2 = 0xC2B2AE3D27D4EB4F
_P3 = 0x165667B19E3779F9
_P4 = 0x85EBCA77C2B2AE63
_P5 = 0x27D4EB2F165667C5
_NAN = b"\x00\x00\x00\x00\x00\x00\xf8\x7f"
VERSION = b"cpgfp2"
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


def _rotl(x: int, r: int) -> int:
    return ((x << r) | (x >> (64 - r))) & _MASK


def _round(acc: int, lane: int) -> int:
    return (_rotl((acc + lane * _P2) & _MASK, 31) * _P1) & _MASK


def _merge(acc: int, lane: int) -> int:
    return (((acc ^ _round(0, lane)) * _P1) + _P4) & _MASK


def xxh64(data: bytes, seed: int = 0) -> int:
    """XXH64 of ``data`` (the published algorithm, in Python: the reference of the kernel)."""
    n = len(data)
    i = 0
    if n >= 32:
        v1 = (seed + _P1 + _P2) & _MASK
        v2 = (seed + _P2) & _MASK
        v3 = seed
        v4 = (seed - _P1) & _MASK
        while i + 32 <= n:
            a, b, c, d = struct.unpack_from("<4Q", data, i)
            v1, v2, v3, v4 = _round(v1, a), _round(v2, b), _round(v3, c), _round(v4, d)
            i += 32
        h = (_rotl(v1, 1) + _rotl(v2, 7) + _rotl(v3, 12) + _rotl(v4, 18)) & _MASK
        for v in (v1, v2, v3, v4):
            h = _merge(h, v)
    else:
        h = (seed + _P5) & _MASK
    h = (h + n) & _MASK
    while i + 8 <= n:
        h = ((_rotl(h ^ _round(0, _UQ.unpack_from(data, i)[0]), 27) * _P1) + _P4) & _MASK
        i += 8
    if i + 4 <= n:
        h = (
            (_rotl(h ^ ((struct.unpack_from("<I", data, i)[0] * _P1) & _MASK), 23) * _P2) + _P3
        ) & _MASK
        i += 4
    while i < n:
        h = (_rotl(h ^ ((data[i] * _P5) & _MASK), 11) * _P1) & _MASK
        i += 1
    h ^= h >> 33
    h = (h * _P2) & _MASK
    h ^= h >> 29
    h = (h * _P3) & _MASK
    return h ^ (h >> 32)


def row_encodings(table: pa.Table) -> Iterable[bytes]:
    """The §14 encoding of every row."""
    columns = [
        _column_bytes(table.column(i), _encoder(field.type)) for i, field in enumerate(table.schema)
    ]
    for parts in zip(*columns, strict=True):
        yield b"".join(parts)


def row_hashes(table: pa.Table) -> Iterable[int]:
    """The 64-bit hash of every row: XXH64 (seed 0) of its encoding."""
    return map(xxh64, row_encodings(table))


def reference_row_hash_sum(table: pa.Table) -> tuple[int, int]:
    """``(rows, sum of row hashes mod 2^64)`` computed in Python."""
    total = 0
    for h in row_hashes(table):
        total = (total + h) & _MASK
    return table.num_rows, total


def row_hash_sum(table: pa.Table) -> tuple[int, int]:
    """``(rows, sum of row hashes mod 2^64)``: the Rust kernel, else the Python reference."""
    try:
        from backends.rust import row_hash_sum as kernel
    except ImportError:
        return reference_row_hash_sum(table)
    return kernel(table)


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
