"""A function returning one of two functions; both are returned and called."""


def fast():
    return "fast"


def slow():
    return "slow"


def choose(flag):
    if flag:
        return fast
    return slow


choose(True)()
choose(False)()
