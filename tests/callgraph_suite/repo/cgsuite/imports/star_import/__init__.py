"""Program: a star import of a module with __all__."""
