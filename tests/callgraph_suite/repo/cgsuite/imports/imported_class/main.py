"""Imports a class, instantiates it and calls a method."""

from .models import User

User("ada").display()
