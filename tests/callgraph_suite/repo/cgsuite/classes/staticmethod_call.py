"""A staticmethod called through the class and through an instance."""


class Temperature:
    @staticmethod
    def to_celsius(fahrenheit):
        return (fahrenheit - 32) * 5 / 9


Temperature.to_celsius(212)
Temperature().to_celsius(32)
