"""A module imported under an alias."""

import math as m


def hypotenuse(a, b):
    return m.sqrt(a * a + b * b)


hypotenuse(3, 4)
