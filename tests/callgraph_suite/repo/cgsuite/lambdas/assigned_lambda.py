"""A lambda bound to a name and called."""

square = lambda x: x * x  # noqa: E731
square(3)
