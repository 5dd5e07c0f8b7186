"""A class returned by a factory function and instantiated."""


class Product:
    def __init__(self):
        self.price = 1


def factory():
    return Product


cls = factory()
cls()
