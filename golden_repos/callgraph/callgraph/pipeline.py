"""Template method: the base class calls a hook that subclasses override."""

from __future__ import annotations


class Stage:
    def run(self, value: int) -> int:
        checked = self.check(value)
        return self.process(checked)

    def check(self, value: int) -> int:
        if value < 0:
            raise ValueError(value)
        return value

    def process(self, value: int) -> int:
        return value


class Doubler(Stage):
    def process(self, value: int) -> int:
        return super().process(value) * 2


def build() -> list[Stage]:
    return [Stage(), Doubler()]
