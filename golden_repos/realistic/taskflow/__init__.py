"""taskflow: a small task tracker."""

__version__ = "0.3.0"
