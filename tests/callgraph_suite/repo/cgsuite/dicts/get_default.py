"""dict.get with a missing key returns the default function, which is called."""


def default_handler():
    return None


def json_handler():
    return "json"


HANDLERS = {"json": json_handler}
handler = HANDLERS.get("xml", default_handler)
handler()
