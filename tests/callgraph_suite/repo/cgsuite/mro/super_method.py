"""super() in an overriding method calls the base's method."""


class Base:
    def describe(self):
        return "base"


class Child(Base):
    def describe(self):
        return "child of " + super().describe()


Child().describe()
