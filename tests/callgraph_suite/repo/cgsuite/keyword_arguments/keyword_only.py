"""A keyword-only callback parameter."""


def done():
    return "done"


def schedule(*, on_done):
    return on_done()


schedule(on_done=done)
