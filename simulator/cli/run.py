"""``overspend run``: simulate a council, print the summary, write the results folder."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from simulator.cli.common import (
    add_cluster_arguments,
    add_run_arguments,
    check_workload,
    config_path,
    print_warnings,
    se_fraction,
)
from simulator.errors import UserError


def _chart_writer(args: argparse.Namespace, ds_of):
    """The ``extra`` step of a run that draws its headline charts into the folder (or nothing).

    Only the headline charts (in-year and medium-term fans, distribution and drivers
    of all services): each chart costs about a third of a second of CPU, so the
    whole default set doubled the cost of a run. ``overspend chart`` draws the rest.
    """
    if args.no_charts:
        return None

    def draw(folder: Path) -> None:
        from simulator.present.charts import write_charts
        from simulator.present.console import steps_bar

        with steps_bar("Drawing the charts") as show:
            write_charts(ds_of(folder), folder / "charts", progress=show, headline=True)

    return draw


def _simulate(args, config, draws: int, seed: int, client=None):
    """The in-memory run: to a precision, or a fixed number of draws."""
    if args.precision is not None:
        from simulator.present.console import progress_bar
        from simulator.runs.precision import MAX_DRAWS, MIN_DRAWS, run_to_precision

        limit = args.draws or MAX_DRAWS
        # No total: how many draws the rule needs is not known until it is met, and a bar
        # running to the most allowed (200,000) would pretend the run is far from done.
        title = f"Simulating {config.council.name} until the s.e. is below {args.precision:g}"
        with progress_bar(None, title) as advance:
            return run_to_precision(
                config,
                args.precision,
                seed=seed,
                threads=args.threads,
                progress=advance,
                max_draws=limit,
                min_draws=min(MIN_DRAWS, limit),
                client=client,
            )
    return _simulate_in_background(config, draws, seed, args.threads, client)


def _simulate_in_background(config, draws: int, seed: int, threads: int | None, client=None):
    """A fixed number of draws, started before the modules for results and printing are imported.

    Importing xarray, pandas and rich takes about half a second of one core;
    done while the simulation runs, it overlaps with the work instead of
    delaying it. The numbers are those of :func:`simulator.run` (on ``client``'s
    dask cluster when given).
    """
    import threading
    from concurrent.futures import ThreadPoolExecutor, wait

    from simulator.engine.chunks import chunk_rng, simulate
    from simulator.model.equations import build_plan, simulate_chunk

    plan = build_plan(config)
    # Load the compiled kernels first (0.2 s of Python that would otherwise
    # contend with the imports below before any chunk could start).
    if client is None:
        from simulator.engine.chunks import kernels_cached

        if not kernels_cached():
            print(
                "Compiling the simulation kernels: the first run after installing, about 10 s "
                "here, then they are cached ...",
                flush=True,
            )
        simulate_chunk(plan, chunk_rng(seed, 0), 0)
    finished, lock, stop = [0], threading.Lock(), threading.Event()

    def count(n: int) -> None:
        if stop.is_set():  # Ctrl-C in the main thread: stop after this chunk
            raise KeyboardInterrupt
        with lock:
            finished[0] += n

    with ThreadPoolExecutor(max_workers=1) as pool:
        running = pool.submit(simulate, plan, draws, seed, threads, count, client)
        try:
            from simulator.present.console import progress_bar
            from simulator.results.dataset import build_dataset

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


def _stream(args, config, path: Path, out_dir: Path, draws: int, seed: int, client=None):
    """A run too large for memory: streamed to zarr, then summarised from the store."""
    from simulator.present.console import print_summary, progress_bar
    from simulator.runs.streamed import open_results, write_streamed_run

    with progress_bar(draws, f"Simulating {config.council.name} (streaming)") as advance:
        written = write_streamed_run(
            config, out_dir, draws, seed, args.threads, advance, args.force,
            extra=_chart_writer(args, open_results), attrs={"config_file": str(path)},
            client=client,
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
    from simulator.config.actuals import with_actuals
    from simulator.config.load import load_config
    from simulator.files import claim
    from simulator.results.folders import check_writable

    path = config_path(args.config)
    config = load_config(path, allow_outside=args.allow_outside_files)
    if (args.as_of is None) != (args.actuals is None):
        raise UserError("--as-of and --actuals go together: give both, or neither")
    if args.as_of is not None:
        config = with_actuals(config, args.as_of, args.actuals, path.name)
    print_warnings(config, path)
    out_dir = Path(args.out) if args.out else Path("results") / path.stem
    from simulator.engine.cluster import open_client, run_threads

    # The cluster first (none without --cluster or --workers): the estimate needs its threads.
    with open_client(args.cluster, args.workers, say=print) as client:
        threads = run_threads(client, args.threads)
        check_workload(config, args.draws or config.run.draws, threads, out_dir=out_dir)
        check_writable(out_dir, args.force)
        with claim(out_dir):  # held from the check to the write: one run at a time per folder
            check_writable(out_dir, args.force)  # again: claiming may have put back a folder
            return _run_into(args, config, path, out_dir, client)


def _run_into(args: argparse.Namespace, config, path: Path, out_dir: Path, client=None) -> int:
    """Simulate, print and write a run into ``out_dir`` (claimed by the caller).

    ``client``: a dask client to run the chunks on (``--cluster``, ``--workers``), or None.
    """
    from simulator.engine import chunks as engine

    draws = args.draws or config.run.draws
    seed = config.run.seed if args.seed is None else args.seed
    started = time.perf_counter()
    if args.precision is None and engine.needs_streaming(config, draws):
        ds, written = _stream(args, config, path, out_dir, draws, seed, client)
    else:
        ds = _simulate(args, config, draws, seed, client)
        from simulator.present.console import print_summary
        from simulator.results.dataset import write_run
        from simulator.results.summary import summary_table

        ds.attrs["config_file"] = str(path)
        table = summary_table(ds)
        print_summary(ds, table=table)  # before the slower writing and charts
        if not args.no_charts:
            print(
                f"\nDrawing the headline charts into {out_dir / 'charts'} "
                f"(`overspend chart {out_dir}` draws the rest) ...",
                flush=True,
            )
        charts = _chart_writer(args, lambda _: ds)
        written = write_run(ds, out_dir, force=args.force, extra=charts, table=table)
    if args.precision is not None:
        from simulator.runs.precision import precision_note

        print("\n" + precision_note(ds))
    seconds = time.perf_counter() - started
    print(f"\n{ds.attrs['draws']:,} draws, seed {seed}, {seconds:.1f} s. Written:")
    for p in written:
        print(f"  {p}")
    return 0


def register(sub) -> None:
    """Add ``overspend run``."""
    run = sub.add_parser(
        "run",
        help="simulate a council and print the overspend summary",
        description=(
            "Simulate a council's budgets, print the summary by service and financial year "
            "(£m), and write results/<config name>/simulation.nc and summary.csv."
        ),
    )
    add_run_arguments(run)
    add_cluster_arguments(run)
    run.add_argument("--out", help="results folder (default: results/<config name>)")
    run.add_argument("--force", action="store_true", help="replace an existing results folder")
    run.add_argument(
        "--precision",
        type=se_fraction,
        metavar="SE",
        help=(
            "keep adding draws until the standard error of the total's probability of overspend "
            "is below SE in every year (e.g. 0.005); --draws is then the most to use (default 200,000)"
        ),
    )
    run.add_argument(
        "--no-charts",
        action="store_true",
        help="do not draw the headline charts into RESULTS/charts (`overspend chart` draws them all)",
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
