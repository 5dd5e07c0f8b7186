"""Instantiating a subclass runs the __init__ it inherits."""


class Base:
    def __init__(self):
        self.ready = True


class Derived(Base):
    pass


Derived()
