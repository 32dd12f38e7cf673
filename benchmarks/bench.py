"""Run the benchmark suite from a source checkout; the same code as ``overspend bench``.

Usage::

    python benchmarks/bench.py [--quick] [--check benchmarks/baseline.json] [--tolerance 0.3]

See ``benchmarks/README.md`` and :mod:`simulator.bench`.
"""

from __future__ import annotations

import sys

from simulator.cli.app import main

if __name__ == "__main__":
    sys.exit(main(["bench", *sys.argv[1:]]))
