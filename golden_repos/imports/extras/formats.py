"""A module inside a namespace package."""


def to_csv(rows: list[list[str]]) -> str:
    return "\n".join(",".join(row) for row in rows)
