"""The package version (alone, so low modules need not import the public face)."""

__version__ = "0.1.0"
