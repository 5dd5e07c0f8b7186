"""A class whose __iter__ is a generator, iterated by a for loop."""


class Library:
    def __init__(self):
        self.books = ["a", "b"]

    def __iter__(self):
        yield from self.books


def main():
    titles = 0
    for _book in Library():
        titles += 1
    return titles


main()
