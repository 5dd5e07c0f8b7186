"""Program: relative imports of a module and of a name."""
