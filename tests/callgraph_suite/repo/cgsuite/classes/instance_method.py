"""An instance created and a method called on the new instance."""


class Greeter:
    def __init__(self, name):
        self.name = name

    def greet(self):
        return "hello " + self.name


Greeter("ada").greet()
