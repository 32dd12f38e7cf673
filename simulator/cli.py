"""The ``overspend`` command line (also ``python -m simulator``)."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import time
from pathlib import Path

from ._version import __version__
from .errors import UserError

#: Modules that add further commands; each has ``register(subparsers)``.
COMMAND_MODULES: tuple[str, ...] = (
    "simulator.sensitivity_cli",
    "simulator.bench_cli",
    "simulator.calibrate_cli",
    "simulator.report_cli",
)


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


def _config_path(arg: str | None) -> Path:
    from .config import bundled_config

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


def _fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0 < value < 0.5:
        raise argparse.ArgumentTypeError(
            f"{value:g} must be a standard error between 0 and 0.5, e.g. 0.005 (half a percentage point)"
        )
    return value


def _chart_writer(args: argparse.Namespace, ds_of):
    """The ``extra`` step of a run that draws its charts into the folder (or nothing)."""
    if args.no_charts:
        return None

    def draw(folder: Path) -> None:
        from .charts import write_charts

        write_charts(ds_of(folder), folder / "charts")

    return draw


def _simulate(args, config, draws: int, seed: int):
    """The in-memory run: to a precision, or a fixed number of draws."""
    if args.precision is not None:
        from .console import progress_bar
        from .convergence import MAX_DRAWS, MIN_DRAWS, run_to_precision

        limit = args.draws or MAX_DRAWS
        with progress_bar(limit, f"Simulating {config.council.name} to precision") as advance:
            return run_to_precision(
                config,
                args.precision,
                seed=seed,
                threads=args.threads,
                progress=advance,
                max_draws=limit,
                min_draws=min(MIN_DRAWS, limit),
            )
    return _simulate_in_background(config, draws, seed, args.threads)


def _simulate_in_background(config, draws: int, seed: int, threads: int | None):
    """A fixed number of draws, started before the modules for results and printing are imported.

    Importing xarray, pandas and rich takes about half a second of one core;
    done while the simulation runs, it overlaps with the work instead of
    delaying it. The numbers are those of :func:`simulator.run`.
    """
    import threading
    from concurrent.futures import ThreadPoolExecutor, wait

    from .engine import chunk_rng, simulate
    from .model import build_plan, simulate_chunk

    plan = build_plan(config)
    # Load the compiled kernels first (0.2 s of Python that would otherwise
    # contend with the imports below before any chunk could start).
    simulate_chunk(plan, chunk_rng(seed, 0), 0)
    finished, lock, stop = [0], threading.Lock(), threading.Event()

    def count(n: int) -> None:
        if stop.is_set():  # Ctrl-C in the main thread: stop after this chunk
            raise KeyboardInterrupt
        with lock:
            finished[0] += n

    with ThreadPoolExecutor(max_workers=1) as pool:
        running = pool.submit(simulate, plan, draws, seed, threads, count)
        try:
            from .console import progress_bar
            from .results import build_dataset

            shown = 0
            with progress_bar(draws, f"Simulating {config.council.name}") as advance:
                while True:
                    over = running.done()  # read before the count, so the last chunk is shown
                    with lock:
                        now = finished[0]
                    advance(now - shown)
                    shown = now
                    if over:
                        break
                    wait([running], timeout=0.1)  # wakes at once when the run ends
            sim = running.result()
        except BaseException:
            stop.set()
            raise
    return build_dataset(plan, sim, seed, draws)


def _stream(args, config, path: Path, out_dir: Path, draws: int, seed: int):
    """A run too large for memory: streamed to zarr, then summarised from the store."""
    from .console import print_summary, progress_bar
    from .stream import open_results, write_streamed_run

    with progress_bar(draws, f"Simulating {config.council.name} (streaming)") as advance:
        written = write_streamed_run(
            config, out_dir, draws, seed, args.threads, advance, args.force,
            extra=_chart_writer(args, open_results), attrs={"config_file": str(path)},
        )  # fmt: skip
    ds = open_results(out_dir)
    print_summary(ds, table=_summary_csv(out_dir))
    return ds, written


def _summary_csv(out_dir: Path):
    """The summary table a streamed run wrote (so the store is not read again)."""
    import pandas as pd

    # Labels such as "N/A" are names here, not missing values.
    return pd.read_csv(out_dir / "summary.csv", keep_default_na=False, na_values=[""])


def _cmd_run(args: argparse.Namespace) -> int:
    # Only what is needed before the simulation starts; see _simulate_in_background.
    from .config import load_config, with_actuals
    from .files import claim
    from .folders import check_writable

    path = _config_path(args.config)
    config = load_config(path)
    if (args.as_of is None) != (args.actuals is None):
        raise UserError("--as-of and --actuals go together: give both, or neither")
    if args.as_of is not None:
        config = with_actuals(config, args.as_of, args.actuals, path.name)
    out_dir = Path(args.out) if args.out else Path("results") / path.stem
    check_writable(out_dir, args.force)
    with claim(out_dir):  # held from the check to the write: one run at a time per folder
        check_writable(out_dir, args.force)  # again: claiming may have put back a folder
        return _run_into(args, config, path, out_dir)


def _run_into(args: argparse.Namespace, config, path: Path, out_dir: Path) -> int:
    """Simulate, print and write a run into ``out_dir`` (claimed by the caller)."""
    from . import engine

    draws = args.draws or config.run.draws
    seed = config.run.seed if args.seed is None else args.seed
    started = time.perf_counter()
    if args.precision is None and engine.needs_streaming(config, draws):
        ds, written = _stream(args, config, path, out_dir, draws, seed)
    else:
        ds = _simulate(args, config, draws, seed)
        from .console import print_summary
        from .results import summary_table, write_run

        ds.attrs["config_file"] = str(path)
        table = summary_table(ds)
        print_summary(ds, table=table)  # before the slower writing and charts
        if not args.no_charts:
            print(f"\nDrawing the charts into {out_dir / 'charts'} ...", flush=True)
        charts = _chart_writer(args, lambda _: ds)
        written = write_run(ds, out_dir, force=args.force, extra=charts, table=table)
    if args.precision is not None:
        from .convergence import precision_note

        print("\n" + precision_note(ds))
    seconds = time.perf_counter() - started
    print(f"\n{ds.attrs['draws']:,} draws, seed {seed}, {seconds:.1f} s. Written:")
    for p in written:
        print(f"  {p}")
    return 0


def _cmd_validate(args: argparse.Namespace) -> int:
    from .config import load_config
    from .describe import describe

    path = _config_path(args.config)
    config = load_config(path)
    print(f"{path}: valid.\n")
    print(describe(config))
    return 0


def build_parser(core_only: bool = False) -> argparse.ArgumentParser:
    """The argument parser with every command (only ``run`` and ``validate`` if ``core_only``)."""
    parser = argparse.ArgumentParser(
        prog="overspend",
        description=(
            "Monte Carlo risk simulator for council social care budgets: the probability "
            "distribution of overspend for each service, per month and financial year."
        ),
    )
    parser.add_argument("--version", action="version", version=f"overspend {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = sub.add_parser(
        "run",
        help="simulate a council and print the overspend summary",
        description=(
            "Simulate a council's budgets, print the summary by service and financial year "
            "(£m), and write results/<config name>/simulation.nc and summary.csv."
        ),
    )
    add_run_arguments(run)
    run.add_argument("--out", help="results folder (default: results/<config name>)")
    run.add_argument("--force", action="store_true", help="replace an existing results folder")
    run.add_argument(
        "--precision",
        type=_fraction,
        metavar="SE",
        help=(
            "keep adding draws until the standard error of the total's probability of overspend "
            "is below SE in every year (e.g. 0.005); --draws is then the most to use (default 200,000)"
        ),
    )
    run.add_argument(
        "--no-charts", action="store_true", help="do not draw the charts into RESULTS/charts"
    )
    run.add_argument(
        "--as-of",
        metavar="YYYY-MM-DD",
        help="last day of the months of actual spend given by --actuals (in-year monitoring)",
    )
    run.add_argument(
        "--actuals",
        metavar="CSV",
        help="actual net spend to date: columns service, month (YYYY-MM), net_spend_gbp[, caseload]",
    )
    run.set_defaults(handler=_cmd_run)

    validate = sub.add_parser(
        "validate",
        help="check a config and describe the model it defines",
        description="Check a config and print a plain-English description of its model.",
    )
    validate.add_argument("config", nargs="?", help="TOML config (default: the bundled example)")
    validate.set_defaults(handler=_cmd_validate)

    if not core_only:
        for name in COMMAND_MODULES:
            importlib.import_module(name).register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status (2 for input errors, 130 if interrupted)."""
    argv = sys.argv[1:] if argv is None else argv
    # The other commands' modules import xarray and the engine when registered;
    # `overspend run` starts sooner without them (see _simulate_in_background).
    command = next((a for a in argv if not a.startswith("-")), None)
    from .files import WRITTEN

    WRITTEN.clear()  # what this command writes, for the message after an interrupt
    try:  # parsing imports the commands' modules, so a Ctrl-C may come here too
        args = build_parser(core_only=command in ("run", "validate")).parse_args(argv)
        return args.handler(args)
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"interrupted: {_what_was_written()}", file=sys.stderr)
        return 130


def entry() -> None:
    """The ``overspend`` console script: :func:`main`, then exit with its status.

    A Ctrl-C after the command has finished (while Python shuts down) is ignored:
    everything is written by then, and it would only make the exit status look
    like a failure.
    """
    import signal

    status = main()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    sys.exit(status)


def _what_was_written() -> str:
    """What the interrupted command had already finished writing, in words."""
    from .files import WRITTEN

    if not WRITTEN:
        return "nothing was written"
    return "only these were written: " + ", ".join(str(p) for p in WRITTEN)
