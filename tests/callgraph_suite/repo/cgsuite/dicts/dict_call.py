"""A dict built by calling dict with keyword arguments."""


def alpha():
    return "a"


options = dict(handler=alpha)
options["handler"]()
