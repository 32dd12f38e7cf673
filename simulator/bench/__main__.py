"""``python -m simulator.bench``: the suite (``--quick``), or a memory-benchmark child process.

A child is ``python -m simulator.bench child MODE CONFIG DRAWS THREADS``, started
by :func:`simulator.bench.timing.measure_memory`; it prints one JSON line.
"""

from __future__ import annotations

import json
import sys

from simulator.bench.suite import main
from simulator.bench.timing import _child

if __name__ == "__main__":
    # Memory benchmark child: python -m simulator.bench child MODE CONFIG DRAWS THREADS
    if len(sys.argv) == 6 and sys.argv[1] == "child":
        _, _, mode, path, draws, n_threads = sys.argv
        print(json.dumps(_child(mode, path, int(draws), int(n_threads))))
    else:
        sys.exit(main(quick="--quick" in sys.argv))
