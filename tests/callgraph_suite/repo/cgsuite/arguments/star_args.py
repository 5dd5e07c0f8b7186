"""Functions collected by *args and called one by one."""


def first():
    return 1


def second():
    return 2


def run_all(*funcs):
    total = 0
    for func in funcs:
        total += func()
    return total


run_all(first, second)
