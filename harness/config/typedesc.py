"""Human descriptions of the types and values in configuration error messages.

Messages are built from the field's declared type (via ``msgspec.inspect``), not from
msgspec's error text, so they read the same whatever msgspec's wording:
``expected one of legacy, rust, shadow, got 'rus'``.
"""

from __future__ import annotations

from typing import Any

import msgspec
import msgspec.inspect as mi


def describe(tp: Any) -> str:
    """What a value of type ``tp`` looks like in TOML, for an error message."""
    return _describe(mi.type_info(tp))


def _describe(info: mi.Type) -> str:
    if isinstance(info, mi.LiteralType):
        values = [str(v) for v in info.values]
        return f"{values[0]!r}" if len(values) == 1 else f"one of {', '.join(values)}"
    if isinstance(info, mi.BoolType):
        return "true or false"
    if isinstance(info, mi.IntType | mi.FloatType):
        noun = "an integer" if isinstance(info, mi.IntType) else "a number"
        return noun + _bounds(info)
    if isinstance(info, mi.StrType):
        return "a string"
    if isinstance(info, mi.VarTupleType | mi.ListType):
        return f"a list of {_plural(_describe(info.item_type))}"
    if isinstance(info, mi.UnionType):
        parts = [_describe(t) for t in info.types if not isinstance(t, mi.NoneType)]
        return " or ".join(parts)
    if isinstance(info, mi.StructType | mi.DictType):
        return "a table"
    return "a value of another type"


def _bounds(info: mi.IntType | mi.FloatType) -> str:
    bounds = [
        f"{op} {value}"
        for op, value in ((">=", info.ge), (">", info.gt), ("<=", info.le), ("<", info.lt))
        if value is not None
    ]
    return f" {' and '.join(bounds)}" if bounds else ""


def _plural(noun: str) -> str:
    for article in ("an ", "a "):
        if noun.startswith(article):
            return noun[len(article) :] + "s"
    return noun


def show_value(value: object) -> str:
    """A value as the user wrote it, roughly in TOML terms (strings quoted, booleans lower)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(show_value(v) for v in value) + "]"
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, int | float):
        return repr(value)
    return str(msgspec.to_builtins(value))  # TOML dates and times: their ISO text
