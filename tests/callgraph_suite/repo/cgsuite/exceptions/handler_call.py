"""A call in an except clause after a call that raises."""


def risky():
    raise KeyError("k")


def recover():
    return "recovered"


def main():
    try:
        return risky()
    except KeyError:
        return recover()


main()
