"""map and filter call the functions they are given."""


def double(x):
    return x * 2


def is_even(x):
    return x % 2 == 0


def main():
    return list(map(double, filter(is_even, range(10))))


main()
