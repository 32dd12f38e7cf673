"""``python -m simulator`` runs the same command line as ``overspend``."""

from .cli import main

raise SystemExit(main())
