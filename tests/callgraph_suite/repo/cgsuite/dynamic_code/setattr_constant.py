"""setattr with a constant name stores a function that is then called as an attribute.

Expected to be handled: the name and the value are both literal.
"""


class Box:
    pass


def opened():
    return "open"


box = Box()
setattr(box, "action", opened)
box.action()
