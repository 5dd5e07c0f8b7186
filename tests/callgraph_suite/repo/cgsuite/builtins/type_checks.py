"""isinstance and type on an instance of a class of the program."""


class Node:
    pass


def describe(value):
    if isinstance(value, Node):
        return "node"
    return type(value).__name__


describe(Node())
