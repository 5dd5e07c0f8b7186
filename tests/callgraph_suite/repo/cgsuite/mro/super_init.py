"""A subclass __init__ calling the base __init__ through super()."""


class Base:
    def __init__(self, name):
        self.name = name


class Derived(Base):
    def __init__(self, name, size):
        super().__init__(name)
        self.size = size


Derived("x", 1)
