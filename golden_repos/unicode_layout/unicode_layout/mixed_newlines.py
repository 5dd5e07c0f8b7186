"""Mixed line endings: LF, CRLF and a lone CR."""


def lf_line() -> str:
    return "lf"


def crlf_line() -> str:
    return lf_line()

def after_cr() -> str:    return crlf_line()
