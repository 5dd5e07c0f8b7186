"""A method aliased by a class attribute and called through the alias."""


class Shape:
    def area(self):
        return 0

    size = area


Shape().size()
