"""A generator whose body calls a function, consumed by list."""


def transform(x):
    return x * 2


def produce(items):
    for item in items:
        yield transform(item)


def main():
    return list(produce([1, 2]))


main()
