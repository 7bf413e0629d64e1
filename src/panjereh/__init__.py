"""Panjereh (پنجره): a national service exchange and citizen single window."""

__version__ = "0.1.0"
