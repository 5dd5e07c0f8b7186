"""A standard-library function imported by name under an alias."""

from textwrap import dedent as strip_margin


def clean(text):
    return strip_margin(text)


clean("  a")
