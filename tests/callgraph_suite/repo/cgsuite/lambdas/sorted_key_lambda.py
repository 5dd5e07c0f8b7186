"""A lambda as the key of sorted, inside a function."""


def weight(item):
    return item[1]


def main():
    items = [("a", 2), ("b", 1)]
    return sorted(items, key=lambda item: weight(item))


main()
