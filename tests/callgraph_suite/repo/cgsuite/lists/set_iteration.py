"""Every function of a set literal called in a for loop."""


def red():
    return "red"


def blue():
    return "blue"


for paint in {red, blue}:
    paint()
