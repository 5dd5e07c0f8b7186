"""A module global rebound inside a function and called from another."""


def ready():
    return True


current = None


def configure():
    global current
    current = ready


def run():
    return current()


configure()
run()
