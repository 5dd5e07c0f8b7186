"""Instances of two classes in a list; a method called on each."""


class Circle:
    def area(self):
        return 3


class Square:
    def area(self):
        return 4


def main():
    total = 0
    for shape in [Circle(), Square()]:
        total += shape.area()
    return total


main()
