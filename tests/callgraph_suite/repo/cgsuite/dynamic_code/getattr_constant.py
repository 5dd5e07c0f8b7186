"""getattr with a constant name, then the result called.

Expected to be handled: the attribute name is a string literal, so Robot.walk is known
statically.
"""


class Robot:
    def walk(self):
        return "walking"


robot = Robot()
getattr(robot, "walk")()
