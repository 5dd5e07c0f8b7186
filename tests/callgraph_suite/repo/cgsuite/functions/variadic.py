"""A function with *args and **kwargs calling a builtin."""


def total(*numbers, **options):
    start = options.get("start", 0)
    return start + sum(numbers)


total(1, 2, start=3)
