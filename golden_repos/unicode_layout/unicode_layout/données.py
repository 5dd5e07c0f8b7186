"""Accented identifiers and a non-ASCII file name: données."""


class Élève:
    """A pupil (French): élève."""

    def __init__(self, prénom: str, âge: int) -> None:
        self.prénom = prénom
        self.âge = âge

    def présenter(self) -> str:
        return f"Je m'appelle {self.prénom} — j'ai {self.âge} ans 🙂"


def créer_élève(prénom: str) -> Élève:
    return Élève(prénom, 12)
