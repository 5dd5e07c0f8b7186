"""Classes as dict values: the instance comes from the constant key."""


class Circle:
    def area(self):
        return 3


class Square:
    def area(self):
        return 4


SHAPES = {"circle": Circle, "square": Square}
shape = SHAPES["square"]()
shape.area()
