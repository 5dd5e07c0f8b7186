"""A class passed as a factory argument and instantiated by the callee."""


class Widget:
    def __init__(self, name):
        self.name = name


def build(factory, name):
    return factory(name)


widget = build(Widget, "button")
