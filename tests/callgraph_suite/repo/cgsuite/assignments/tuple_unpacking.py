"""Two functions unpacked from a tuple; only one of the names is called."""


def add(a, b):
    return a + b


def sub(a, b):
    return a - b


plus, minus = add, sub
plus(1, 2)
