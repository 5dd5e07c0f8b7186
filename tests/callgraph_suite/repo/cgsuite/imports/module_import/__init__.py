"""Program: a sibling module imported with from-package-import."""
