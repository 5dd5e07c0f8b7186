"""Valid code, then a syntax error, then valid code again."""


def before_error() -> int:
    return 1


def broken(:
    pass


class AfterError:
    pass
