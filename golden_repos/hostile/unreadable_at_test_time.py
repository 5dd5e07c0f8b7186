"""A normal file; tests remove its read permission to provoke SCAN_UNREADABLE."""


def readable_only_sometimes() -> str:
    return "readable"
