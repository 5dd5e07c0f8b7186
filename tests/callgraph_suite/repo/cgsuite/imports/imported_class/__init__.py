"""Program: a class imported from a sibling module."""
