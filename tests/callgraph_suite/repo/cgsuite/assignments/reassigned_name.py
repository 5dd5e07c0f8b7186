"""One name bound to two functions in turn; each is called while bound."""


def first():
    return 1


def second():
    return 2


handler = first
handler()
handler = second
handler()
