"""A function goes in as an argument and comes back as the return value."""


def ping():
    return "ping"


def identity(value):
    return value


handler = identity(ping)
handler()
