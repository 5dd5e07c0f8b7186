"""A function imported by name from a standard-library module."""

from os.path import basename


def leaf(path):
    return basename(path)


leaf("/a/b")
