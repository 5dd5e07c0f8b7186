"""A decorator applied to a class, which registers and returns it."""

REGISTRY = {}


def register_class(cls):
    REGISTRY[cls.__name__] = cls
    return cls


@register_class
class Plugin:
    def run(self):
        return "run"


REGISTRY["Plugin"]().run()
