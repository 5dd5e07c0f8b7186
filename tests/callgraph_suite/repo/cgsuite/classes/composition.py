"""An object held in an attribute and its method called through the attribute."""


class Engine:
    def start(self):
        return "vroom"


class Car:
    def __init__(self):
        self.engine = Engine()

    def drive(self):
        return self.engine.start()


Car().drive()
