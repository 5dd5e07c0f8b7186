"""yield from delegates to another generator."""


def inner():
    yield 1
    yield 2


def outer():
    yield 0
    yield from inner()


def main():
    return list(outer())


main()
