"""A function passed by keyword to a method and called there."""


def shout(text):
    return text.upper()


class Printer:
    def emit(self, text, transform=None):
        return transform(text)


Printer().emit("hi", transform=shout)
