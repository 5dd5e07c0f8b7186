"""A generator function iterated by a for loop; the loop body calls a function."""


def count_up(limit):
    value = 0
    while value < limit:
        yield value
        value += 1


def consume(value):
    return value


def main():
    for value in count_up(3):
        consume(value)


main()
