"""An innocent module inside the trap package (importing it runs the package __init__)."""


def innocent() -> str:
    return "innocent"
