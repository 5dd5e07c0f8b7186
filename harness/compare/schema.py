"""Schema comparison: names, types, nullability and column order (cheapest check first)."""

from __future__ import annotations

import pyarrow as pa

from harness.compare.model import SchemaDifference


def schema_differences(primary: pa.Schema, candidate: pa.Schema) -> list[SchemaDifference]:
    """Every difference between two Arrow schemas, in primary column order."""
    found: list[SchemaDifference] = []
    theirs = {f.name: f for f in candidate}
    ours = {f.name: f for f in primary}
    for field in primary:
        other = theirs.get(field.name)
        if other is None:
            found.append(SchemaDifference(kind="missing_column", column=field.name))
            continue
        if field.type != other.type:
            found.append(
                SchemaDifference(
                    kind="type",
                    column=field.name,
                    primary=str(field.type),
                    candidate=str(other.type),
                )
            )
        if field.nullable != other.nullable:
            found.append(
                SchemaDifference(
                    kind="nullability",
                    column=field.name,
                    primary=str(field.nullable).lower(),
                    candidate=str(other.nullable).lower(),
                )
            )
    found.extend(
        SchemaDifference(kind="extra_column", column=f.name)
        for f in candidate
        if f.name not in ours
    )
    shared_ours = [n for n in primary.names if n in theirs]
    shared_theirs = [n for n in candidate.names if n in ours]
    if shared_ours != shared_theirs:
        found.append(
            SchemaDifference(
                kind="order",
                column=",".join(shared_ours),
                primary=",".join(shared_ours),
                candidate=",".join(shared_theirs),
            )
        )
    return found
