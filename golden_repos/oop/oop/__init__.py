"""Object-oriented shapes: inheritance, overrides, properties and friends."""
