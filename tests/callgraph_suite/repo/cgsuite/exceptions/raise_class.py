"""raise of a class without parentheses instantiates it, running its __init__."""


class ValidationError(Exception):
    def __init__(self, message="invalid"):
        self.message = message


def validate(value):
    if value < 0:
        raise ValidationError
    return value


validate(1)
