"""A function read from a dict nested in a dict."""


def low():
    return 1


def high():
    return 9


CONFIG = {"levels": {"low": low, "high": high}}
CONFIG["levels"]["low"]()
