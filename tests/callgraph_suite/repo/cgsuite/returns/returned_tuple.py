"""Two functions returned in a tuple and unpacked; only the second is called."""


def start():
    return "start"


def stop():
    return "stop"


def pair():
    return start, stop


_begin, end = pair()
end()
