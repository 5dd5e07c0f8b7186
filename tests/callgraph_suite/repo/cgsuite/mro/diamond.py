"""A diamond: super() in Left resolves to Right for a Child instance."""


class Base:
    def greet(self):
        return "base"


class Left(Base):
    def greet(self):
        return "left " + super().greet()


class Right(Base):
    def greet(self):
        return "right " + super().greet()


class Child(Left, Right):
    pass


Child().greet()
