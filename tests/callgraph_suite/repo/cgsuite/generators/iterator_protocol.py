"""A for loop over an iterator class calls __iter__ and __next__."""


class Countdown:
    def __init__(self, start):
        self.current = start

    def __iter__(self):
        return self

    def __next__(self):
        if self.current <= 0:
            raise StopIteration
        self.current -= 1
        return self.current


def main():
    total = 0
    for value in Countdown(3):
        total += value
    return total


main()
