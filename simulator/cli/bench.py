"""The ``overspend bench`` command: the benchmark suite (see :mod:`simulator.bench`)."""

from __future__ import annotations

import argparse
from pathlib import Path

from simulator.cli.common import positive_int


def _tolerance(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0.0 <= value < 1.0:
        raise argparse.ArgumentTypeError(f"{value} must be >= 0 and < 1 (a fraction, e.g. 0.3)")
    return value


def _cmd_bench(args: argparse.Namespace) -> int:
    from simulator.bench import main

    # main reads the baseline (read_baseline) before the suite, so a bad one stops at once.
    return main(
        quick=args.quick,
        check=args.check,
        tolerance=args.tolerance,
        out_dir=Path(args.out),
        config_path=Path(args.config) if args.config else None,
        threads=args.threads,
    )


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``bench`` command to the ``overspend`` parser."""
    from simulator.bench import DEFAULT_TOLERANCE

    parser = subparsers.add_parser(
        "bench",
        help="benchmark speed and memory (throughput, start-up, scaling, floor, numpy, commands)",
        description=(
            "Measure simulation speed and memory: warm throughput, cold and warm start, "
            "scaling with draws, services, horizon and caseload, peak memory up to 1,000,000 "
            "streamed draws, the random-number floor, the kernel against its own generator, "
            "the speed-up over two numpy implementations (batched across draws, and per "
            "draw), and the CPU of `run` with its charts and of `report` against the "
            "simulation. Prints a table and writes <out>/<timestamp>.json and .png. The "
            "full suite takes about 30 minutes; --quick about 3 minutes of CPU (6 here, "
            "loaded)."
        ),
    )
    parser.add_argument(
        "config", nargs="?", help="TOML config to benchmark (default: the bundled example county)"
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="small sizes (about 3 minutes of CPU; no 1,000,000-draw run)",
    )
    parser.add_argument(
        "--check",
        metavar="BASELINE",
        help="compare the ratios with a baseline JSON (e.g. benchmarks/baseline.json); "
        "exit 1 if one is worse by more than the tolerance",
    )
    parser.add_argument(
        "--tolerance",
        type=_tolerance,
        default=DEFAULT_TOLERANCE,
        help=f"allowed fraction worse than the baseline (default {DEFAULT_TOLERANCE})",
    )
    parser.add_argument(
        "--out", default="results/bench", help="folder for the results (default: results/bench)"
    )
    parser.add_argument(
        "--threads", type=positive_int, help="threads for the N-thread runs (default: all cores)"
    )
    parser.set_defaults(handler=_cmd_bench)
