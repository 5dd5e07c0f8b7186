"""A function looked up in globals() by a constant name and called.

Not expected to be handled by a value-flow analysis of names (globals() is a builtin's
result); the edge to builtins.globals is expected.
"""


def task():
    return "done"


globals()["task"]()
