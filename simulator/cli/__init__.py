"""The ``overspend`` command line: flags and dispatch only, one module per group of commands.

- ``app``: the parser, ``run`` and ``validate``, and the entry point.
- ``report``: ``chart`` and ``report``; ``sensitivity``: ``sensitivity`` and
  ``compare``; ``calibrate``; ``bench``.
"""

from simulator.cli.app import entry, main

__all__ = ["entry", "main"]
