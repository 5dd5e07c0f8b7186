"""exec of a constant string inside a function.

Not expected to be handled (the call is inside a string): Python runs setup() with the
function's globals, so the function calls setup. The edge to builtins.exec is expected.
"""


def setup():
    return "ready"


def main():
    exec("setup()")


main()
