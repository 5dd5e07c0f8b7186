"""A registering decorator that returns the function itself."""

HANDLERS = []


def register(func):
    HANDLERS.append(func)
    return func


@register
def on_start():
    return "started"


on_start()
