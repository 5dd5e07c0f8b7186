"""A function bound by an assignment expression and called in the same statement."""


def fetch():
    return [1]


def main():
    if (loader := fetch) is not None:
        return loader()
    return None


main()
