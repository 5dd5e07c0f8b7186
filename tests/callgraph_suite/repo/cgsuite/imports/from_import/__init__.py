"""Program: a function imported by name."""
