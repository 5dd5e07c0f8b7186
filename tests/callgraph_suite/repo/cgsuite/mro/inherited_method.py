"""A method found in the base class."""


class Animal:
    def speak(self):
        return "..."


class Dog(Animal):
    pass


Dog().speak()
