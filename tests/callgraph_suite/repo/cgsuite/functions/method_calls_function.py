"""A method calling a module-level function."""


def normalize(text):
    return text.strip()


class Parser:
    def parse(self, text):
        return normalize(text)


Parser().parse(" x ")
