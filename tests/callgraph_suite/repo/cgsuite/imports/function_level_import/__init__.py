"""Program: an import inside a function body."""
