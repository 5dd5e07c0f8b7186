"""A function passed as a positional argument is called through the parameter."""


def greet():
    return "hi"


def call_it(callback):
    return callback()


call_it(greet)
