"""An instance kept in a module variable and used twice."""


class Registry:
    def __init__(self):
        self.items = {}

    def add(self, key, value):
        self.items[key] = value

    def size(self):
        return len(self.items)


registry = Registry()
registry.add("a", 1)
registry.size()
