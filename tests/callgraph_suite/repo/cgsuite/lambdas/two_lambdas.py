"""Two lambdas in one scope, both called."""

inc = lambda x: x + 1  # noqa: E731
dec = lambda x: x - 1  # noqa: E731
dec(inc(1))
