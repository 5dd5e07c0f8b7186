"""Helpers."""


def assist():
    return 1
