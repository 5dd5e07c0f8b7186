"""The default plugin."""


def activate() -> str:
    return "default"
