"""Program: a function imported under an alias."""
