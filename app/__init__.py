"""Track: time tracking for engineering and architecture firms."""

__version__ = "0.1.0"
