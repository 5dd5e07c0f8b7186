"""Keyword arguments given in another order than the parameters."""


def produce():
    return 1


def consume(value):
    return value


def pipe(source, sink):
    return sink(source())


pipe(sink=consume, source=produce)
