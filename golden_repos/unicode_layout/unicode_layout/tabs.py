"""Indented with tabs."""


def tabbed(x: int) -> int:
	if x > 0:
		return x * 2
	return -x


class Tabbed:
	def method(self) -> int:
		return tabbed(3)
