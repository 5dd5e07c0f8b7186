"""A file inside a directory whose name ends in .py."""


def inside_dir() -> str:
    return "inside"
