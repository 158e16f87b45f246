"""gtmsim: a go-to-market simulation engine."""

__version__ = "0.1.0"
