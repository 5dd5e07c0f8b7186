# -*- coding: latin-1 -*-
"""A Latin-1 file: the bytes of é and ç are single bytes here."""


def café(crème: str = "brûlée") -> str:
    return "café " + crème


class Garçon:
    def servir(self) -> str:
        return café("fraîche")
