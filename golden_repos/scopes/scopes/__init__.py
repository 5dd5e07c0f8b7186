"""Scoping: closures, nonlocal, global, comprehensions, generators, async, walrus, match."""
