"""Storage."""


def save(record):
    return record
