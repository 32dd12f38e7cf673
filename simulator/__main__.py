"""``python -m simulator`` runs the same command line as ``overspend``."""

from .cli import entry

entry()
