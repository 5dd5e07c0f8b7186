"""Valid Python in a file whose name is not an identifier: it has no module name."""


def orphan() -> str:
    return "orphan"
