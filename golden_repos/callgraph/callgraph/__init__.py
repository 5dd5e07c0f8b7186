"""A call graph with known edges."""
