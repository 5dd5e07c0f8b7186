"""itertools.chain consumed by list."""

import itertools


def merge(first, second):
    return list(itertools.chain(first, second))


merge([1], [2])
