"""A function calling a function nested in it."""


def outer():
    def inner():
        return 2

    return inner()


outer()
