"""The contract as one machine-readable file, ``contract.json``, generated from the Python
definitions (``schemas.py``, ``views.py``, ``codes.py``).

The Rust engine compiles that file in (``backends/rust/src/contract.rs``) instead of copying
the definitions by hand, so both engines read one contract. Regenerate it after changing any
of the three modules::

    python -m backends.contract.export           # rewrite contract.json
    python -m backends.contract.export --check   # exit 1 when contract.json is stale

The file is deterministic: object keys sorted, lists in their defined order (column order,
table order and catalogue order are part of the contract), two-space indentation, a final
newline. Types are written as pyarrow prints them (CONTRACT §14 ``schema_string``).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import pyarrow as pa

from backends.contract.codes import ERROR_CODES, WARNING_CODES, CodeInfo
from backends.contract.schemas import CONTRACT_VERSION, EVIDENCE_TABLES, OUTPUT_TABLES
from backends.contract.views import VIEW_CATALOG

PATH = Path(__file__).with_name("contract.json")
COMMAND = "python -m backends.contract.export"

# The types a contract column may have: those contract.rs can build.
_PRIMITIVES = frozenset({"string", "bool", "int32", "int64", "double"})


def type_text(typ: pa.DataType) -> str:
    """The column type as pyarrow prints it; ValueError for a type the engine cannot read."""
    text = str(typ)
    if text in _PRIMITIVES:
        return text
    if pa.types.is_list(typ) and typ.value_field.name == "item" and typ.value_field.nullable:
        return f"list<item: {type_text(typ.value_type)}>"
    raise ValueError(f"the contract file cannot carry type {text}")


def _columns(schema: pa.Schema) -> list[dict[str, Any]]:
    return [{"name": f.name, "type": type_text(f.type), "nullable": f.nullable} for f in schema]


def _code(info: CodeInfo) -> dict[str, str]:
    return {
        "code": info.code,
        "severity": str(info.severity),
        "stage": str(info.stage),
        "meaning": info.meaning,
    }


def document() -> dict[str, Any]:
    """The contract as plain JSON values."""
    tables = [*EVIDENCE_TABLES.values(), *OUTPUT_TABLES.values()]
    return {
        "generated_by": COMMAND,
        "contract_version": CONTRACT_VERSION,
        "tables": [
            {
                "name": t.name,
                "layer": t.layer,
                "primary_key": list(t.primary_key),
                "columns": _columns(t.schema),
            }
            for t in tables
        ],
        "views": [
            {
                "name": v.name,
                "kind": v.kind,
                "inputs": list(v.inputs),
                "primary_key": list(v.primary_key),
                "columns": _columns(v.schema),
            }
            for v in VIEW_CATALOG.values()
        ],
        "codes": {
            "warning": [_code(c) for c in WARNING_CODES.values()],
            "error": [_code(c) for c in ERROR_CODES.values()],
        },
    }


def render() -> str:
    """The text of ``contract.json``."""
    return json.dumps(document(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def is_stale(path: Path = PATH) -> bool:
    """Whether the file at ``path`` differs from what the Python definitions generate."""
    try:
        return path.read_text(encoding="utf-8") != render()
    except FileNotFoundError:
        return True


def main(argv: list[str] | None = None) -> int:
    """Write ``contract.json``, or with ``--check`` only say whether it is stale (exit 1)."""
    parser = argparse.ArgumentParser(
        prog=COMMAND, description="Generate backends/contract/contract.json."
    )
    parser.add_argument("--check", action="store_true", help="exit 1 if contract.json is stale")
    args = parser.parse_args(argv)
    if args.check:
        if is_stale():
            print(f"{PATH} is stale: run `{COMMAND}`", file=sys.stderr)
            return 1
        return 0
    PATH.write_text(render(), encoding="utf-8", newline="\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
