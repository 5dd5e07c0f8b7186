"""A function stored into an empty dict by item assignment, then called."""


def greet():
    return "hi"


table = {}
table["greet"] = greet
table["greet"]()
