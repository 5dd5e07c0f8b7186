"""A default callback used by one call and replaced by keyword in another."""


def default_format(value):
    return str(value)


def fancy(value):
    return "*" + str(value) + "*"


def process(value, formatter=default_format):
    return formatter(value)


process(1)
process(2, formatter=fancy)
