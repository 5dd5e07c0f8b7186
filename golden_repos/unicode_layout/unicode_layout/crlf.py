"""Windows line endings (CRLF) everywhere. ☔"""

from .bom import avec_bom


def crlf_function(value: str = "ligne ☀") -> str:
    """A function in a CRLF file."""
    return avec_bom(value) + "\r\n"


class CrlfClass:
    def method(self) -> str:
        return crlf_function("método ✓")
