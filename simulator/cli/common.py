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


def add_cluster_arguments(parser: argparse.ArgumentParser) -> None:
    """``--cluster ADDRESS`` or ``--workers N``: run the chunks on dask (see docs/cluster.md)."""
    from simulator.engine.cluster import MAX_LOCAL_WORKERS

    def local_workers(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if not 1 <= value <= MAX_LOCAL_WORKERS:
            raise argparse.ArgumentTypeError(
                f"{value} must be from 1 to {MAX_LOCAL_WORKERS} local worker processes"
            )
        return value

    where = parser.add_mutually_exclusive_group()
    where.add_argument(
        "--cluster", metavar="ADDRESS",
        help="run the chunks on the dask scheduler at ADDRESS (e.g. tcp://10.0.0.5:8786); "
        "identical results; the resolved config, with the council's figures, goes to its workers",
    )  # fmt: skip
    where.add_argument(
        "--workers", metavar="N", type=local_workers,
        help="start a local dask cluster of N worker processes for this run; identical results",
    )  # fmt: skip


#: A run estimated to take longer than this on this machine is refused (seconds).
LONGEST_RUN = 24 * 3600

#: A run estimated to take longer than this is announced with its estimate (seconds).
ANNOUNCE_RUN = 60


def check_workload(
    config, draws: int, threads: int, runs: int = 1, out_dir=None, option: str = "--draws"
) -> None:
    """Refuse work that would not finish, and say how long a long run will take.

    Estimated from the config before simulating (see
    :mod:`simulator.model.workload`): a run of more than a day here, or one whose
    results would not fit the free disk space where they go, is refused with the
    ``--draws`` that would take about ten minutes; one of more than a minute is
    announced with its estimate.

    Parameters
    ----------
    config : Config
    draws : int
    threads : int
    runs : int
        Simulations of ``draws`` draws the command makes (e.g. one per scenario).
    out_dir : path, optional
        Where the results go, for the free-space check.
    option : str
        The option that sets the work, for the advice (``--draws`` unless the
        command's work is set otherwise, e.g. ``--samples``: then no number is
        suggested).
    """
    from simulator.engine.chunks import STREAM_THRESHOLD_BYTES
    from simulator.errors import UserError
    from simulator.model.equations import build_plan
    from simulator.model.workload import workload

    work = workload(build_plan(config))
    seconds = runs * work.seconds(draws, threads)
    size = runs * work.result_bytes(draws)
    advice = (
        f"--draws {_round_down(work.draws_within(600 / runs, threads)):,} would take about ten "
        "minutes"
        if option == "--draws"
        else f"a smaller {option} takes proportionally less"
    )
    what = f"{draws:,} draws of about {work.placements_per_draw:,.0f} placements each" + (
        f", {runs} times" if runs > 1 else ""
    )
    if seconds > LONGEST_RUN:
        raise UserError(
            f"{what} would take {duration(seconds)} on {threads} "
            f"thread{'s' if threads != 1 else ''} here (the limit is a day): {advice}"
        )
    free = _free_bytes(out_dir)
    if size > STREAM_THRESHOLD_BYTES and free is not None and size > free:
        raise UserError(
            f"{what}: the results would take about {_size(size)} and {out_dir} has "
            f"{_size(free)} free: {advice}, or free some space"
        )
    if seconds > ANNOUNCE_RUN:
        print(
            f"This run is {what}: about {duration(seconds)} on {threads} "
            f"thread{'s' if threads != 1 else ''} here ({advice}).",
            flush=True,
        )


def _free_bytes(out_dir) -> int | None:
    """Free space of the nearest existing folder at or above ``out_dir`` (None if unknown)."""
    import shutil
    from pathlib import Path

    if out_dir is None:
        return None
    folder = Path(out_dir).absolute()
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    try:
        return shutil.disk_usage(folder).free
    except OSError:
        return None


def _round_down(n: int) -> int:
    """``n`` rounded down to one or two significant figures, for advice (at least 1)."""
    if n < 100:
        return max(n, 1)
    scale = 10 ** (len(str(n)) - 2)
    return n // scale * scale


def duration(seconds: float) -> str:
    """A duration in words: ``about 40 seconds``-style, without the "about"."""
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= 1.5 * size:
            value = seconds / size
            text = f"{value:,.0f}" if value >= 10 else f"{value:.1f}".removesuffix(".0")
            return f"{text} {unit}s"
    return f"{max(seconds, 1):.0f} seconds"


def _size(n: float) -> str:
    """Bytes in words: ``5.5 GB``."""
    for unit, size in (("PB", 1e15), ("TB", 1e12), ("GB", 1e9), ("MB", 1e6)):
        if n >= size:
            return f"{n / size:,.1f} {unit}"
    return f"{n / 1e3:,.0f} kB"
