"""A diamond: Diamond(Left, Right), both of which derive from Base."""


class Base:
    def greet(self) -> str:
        return "base"

    def who(self) -> str:
        return "Base"


class Left(Base):
    def greet(self) -> str:
        return "left+" + super().greet()


class Right(Base):
    def greet(self) -> str:
        return "right+" + super().greet()

    def who(self) -> str:
        return "Right"


class Diamond(Left, Right):
    """MRO: Diamond, Left, Right, Base, object."""

    def greet(self) -> str:
        return "diamond+" + super().greet()


class Bottom(Left, Right):
    """Overrides ``who``: the nearest definition in the MRO is Right.who, not Base.who."""

    def who(self) -> str:
        return "Bottom of " + super().who()
