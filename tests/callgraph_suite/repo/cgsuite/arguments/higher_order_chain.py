"""A function argument that itself receives a function argument."""


def square(x):
    return x * x


def apply_twice(fn, value):
    return fn(fn(value))


def compose(outer_fn, inner_fn, value):
    return outer_fn(inner_fn, value)


result = compose(apply_twice, square, 3)
