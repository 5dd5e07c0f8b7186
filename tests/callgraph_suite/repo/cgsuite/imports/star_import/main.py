"""Calls a name that a star import binds."""

from .tools import *  # noqa: F403

build()  # noqa: F405
