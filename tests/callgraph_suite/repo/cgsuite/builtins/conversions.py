"""Builtin classes called to convert values."""


def parse(text):
    number = int(text)
    ratio = float(text)
    return str(number + ratio)


parse("3")
