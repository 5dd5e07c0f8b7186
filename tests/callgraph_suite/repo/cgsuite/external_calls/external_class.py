"""A standard-library class instantiated and one of its own methods called."""

from collections import Counter


def top_letter(text):
    return Counter(text).most_common(1)


top_letter("aab")
