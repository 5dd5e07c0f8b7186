"""getattr with a default for a missing attribute: Python calls the default.

Expected to be handled only by an analysis that knows Box has no attribute "open"; the
edge to builtins.getattr is expected to be found in any case.
"""


class Box:
    pass


def fallback():
    return "closed"


box = Box()
getattr(box, "open", fallback)()
