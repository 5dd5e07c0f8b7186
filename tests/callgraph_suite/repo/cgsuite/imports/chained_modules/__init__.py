"""Program: calls across three modules."""
