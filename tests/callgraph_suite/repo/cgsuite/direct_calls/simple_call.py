"""A module-level call of a function that calls another."""


def helper():
    return 1


def main():
    return helper()


main()
