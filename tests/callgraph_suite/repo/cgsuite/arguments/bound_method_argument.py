"""A bound method passed as an argument and called in a loop."""


class Counter:
    def __init__(self):
        self.count = 0

    def bump(self):
        self.count += 1
        return self.count


def repeat(action, times):
    for _ in range(times):
        action()


counter = Counter()
repeat(counter.bump, 3)
