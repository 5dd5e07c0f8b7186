"""Service: calls storage."""

from .storage import save


def create(name):
    return save({"name": name})
