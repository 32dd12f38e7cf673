"""``python -m simulator`` runs the same command line as ``overspend``."""

from simulator.cli.app import entry

entry()
