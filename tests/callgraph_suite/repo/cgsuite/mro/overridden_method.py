"""A method overridden in the subclass: the subclass's method runs."""


class Animal:
    def speak(self):
        return "..."


class Cat(Animal):
    def speak(self):
        return "meow"


Cat().speak()
