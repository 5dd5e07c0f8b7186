"""A method called through its class with the instance passed explicitly."""


class Calculator:
    def add(self, a, b):
        return a + b


calc = Calculator()
Calculator.add(calc, 1, 2)
