"""A class defined inside a function; its instance escapes and is used."""


def make_counter():
    class Counter:
        def __init__(self):
            self.n = 0

        def inc(self):
            self.n += 1
            return self.n

    return Counter()


counter = make_counter()
counter.inc()
