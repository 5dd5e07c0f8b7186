"""A generator expression that calls a function for each item, summed."""


def square(x):
    return x * x


def main():
    return sum(square(x) for x in range(3))


main()
