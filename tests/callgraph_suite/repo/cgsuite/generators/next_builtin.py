"""A generator advanced with next."""


def numbers():
    yield 1
    yield 2


def main():
    generator = numbers()
    return next(generator)


main()
