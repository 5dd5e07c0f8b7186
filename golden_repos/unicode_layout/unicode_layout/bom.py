"""This file starts with a UTF-8 byte order mark. ❤"""


def avec_bom(texte: str) -> str:
    """Upper-cases texte: Ä Ö Ü ß."""
    return texte.upper() + " 🅱"
