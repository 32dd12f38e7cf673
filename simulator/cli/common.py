"""What several commands share: argument types, the run arguments, where results go."""

from __future__ import annotations

import argparse
import os
from pathlib import Path


def positive_int(text: str) -> int:
    """argparse type: a whole number of at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} must be at least 1")
    return value


def seed_int(text: str) -> int:
    """argparse type: a seed, a whole number from 0 to 2**63 - 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if not 0 <= value < 2**63:
        raise argparse.ArgumentTypeError(f"{value} must be between 0 and 2**63 - 1")
    return value


def config_path(arg: str | None) -> Path:
    from simulator.config.bundled import bundled_config

    return bundled_config() if arg is None else Path(arg)


def add_run_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments shared by commands that simulate (config, draws, seed, threads)."""
    parser.add_argument(
        "config", nargs="?", help="TOML config (default: the bundled example county)"
    )
    parser.add_argument(
        "--draws", type=positive_int, help="Monte Carlo draws (default: the config's [run] draws)"
    )
    parser.add_argument(
        "--seed", type=seed_int, help="random seed (default: the config's [run] seed)"
    )
    parser.add_argument(
        "--threads",
        type=positive_int,
        default=os.cpu_count() or 1,
        help="worker threads (default: the machine's cores); never changes the results",
    )
    add_outside_argument(parser)


def add_outside_argument(parser: argparse.ArgumentParser) -> None:
    """``--allow-outside-files``: case files named by the config may lie outside its folder."""
    parser.add_argument(
        "--allow-outside-files",
        action="store_true",
        help="let the config name a snapshot or actuals file outside its own folder "
        "(by default they must be in it or below it)",
    )


def se_fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0 < value < 0.5:
        raise argparse.ArgumentTypeError(
            f"{value:g} must be a standard error between 0 and 0.5, e.g. 0.005 (half a percentage point)"
        )
    return value


def power_of_two(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 2 or value & (value - 1):
        raise argparse.ArgumentTypeError(f"{value} must be a power of two, e.g. 512, 1024, 2048")
    return value


def output_path(config_arg: str | None, out: str | None, name: str) -> Path:
    """Where a command writes ``name``: ``--out`` or ``results/<config stem>/``."""
    from simulator.config.bundled import bundled_config

    stem = (bundled_config() if config_arg is None else Path(config_arg)).stem
    return (Path(out) if out else Path("results") / stem) / name


def add_output_arguments(parser: argparse.ArgumentParser, file: str) -> None:
    parser.add_argument("--service", default="total", help="result row to print (default: total)")
    parser.add_argument("--out", help="results folder (default: results/<config name>)")
    parser.add_argument("--force", action="store_true", help=f"replace an existing {file}")


def load_run_config(args: argparse.Namespace):
    from simulator.config.bundled import bundled_config
    from simulator.config.load import load_config

    path = bundled_config() if args.config is None else Path(args.config)
    config = load_config(path, allow_outside=args.allow_outside_files)
    seed = config.run.seed if args.seed is None else args.seed
    return path, config, seed


def print_notes(notes: list[str]) -> None:
    """Say which sensitivity or scenario results were left out, and why (one line each)."""
    for note in notes:
        print(f"note: {note}")


def print_warnings(config, path) -> None:
    """Print a config's warnings (implausible figures), one line each, on standard error.

    With in-year actuals, also where the actual spend to date lies outside what the
    model simulates for those months (a short simulation of its own, about a second).
    """
    import sys

    lines = list(config.warnings)
    if config.actuals is not None:
        from simulator.analysis.actuals import spend_to_date_warnings

        lines += spend_to_date_warnings(config)
    for line in lines:
        print(f"warning: {path}: {line}", file=sys.stderr)
