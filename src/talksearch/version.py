"""The version, in a module of its own: the store records it, and nothing has to load the whole package for it."""

__version__ = "0.1.0"
