"""eval of a constant string that calls a function of the module.

Not expected to be handled (the call is inside a string): Python runs compute() in the
module's frame, so the module calls compute. The edge to builtins.eval is expected.
"""


def compute():
    return 5


result = eval("compute()")
