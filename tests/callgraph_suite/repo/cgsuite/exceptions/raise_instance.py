"""raise of an instance of a custom exception with no __init__ of its own."""


class NotFound(Exception):
    pass


def lookup(table, key):
    if key not in table:
        raise NotFound(key)
    return table[key]


lookup({"a": 1}, "a")
