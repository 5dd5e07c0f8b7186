"""Calls of the builtins print and len."""


def main():
    items = [1, 2, 3]
    print(len(items))


main()
