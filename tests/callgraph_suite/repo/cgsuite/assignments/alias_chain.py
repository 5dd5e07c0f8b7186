"""A function passed along a chain of assignments inside a function."""


def target():
    return "target"


def main():
    first = target
    second = first
    third = second
    return third()


main()
