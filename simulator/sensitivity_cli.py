"""Commands ``overspend sensitivity`` and ``overspend compare``, and their printed tables.

Both write one netCDF file into the run's folder (default
``results/<config name>/``, as ``overspend run``): ``sensitivity.nc`` or
``scenarios.nc``, written to a temporary name and renamed when complete, and
never over an existing file unless ``--force`` is given.
"""

from __future__ import annotations

import argparse
import contextlib
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import xarray as xr
from rich.console import Console
from rich.table import Table

from . import files
from .cli import positive_int
from .console import new_progress
from .errors import UserError
from .files import write_file
from .results import gbp_m

DEFAULT_SAMPLES = 1024
DEFAULT_TORNADO_DRAWS = 1000
DEFAULT_TOP = 15


# ------------------------------------------------------------------ files


def output_path(config_arg: str | None, out: str | None, name: str) -> Path:
    """Where a command writes ``name``: ``--out`` or ``results/<config stem>/``."""
    from .config import bundled_config

    stem = (bundled_config() if config_arg is None else Path(config_arg)).stem
    return (Path(out) if out else Path("results") / stem) / name


def write_netcdf(ds: xr.Dataset, path: Path, force: bool = False) -> Path:
    """Write ``ds`` to ``path`` atomically (temporary file, then rename).

    Parameters
    ----------
    ds : xarray.Dataset
    path : pathlib.Path
    force : bool
        Replace a file the tool wrote there before (others never are).

    Returns
    -------
    pathlib.Path
    """
    return write_file(path, lambda tmp: files.write_netcdf(ds, tmp), force=force)


# ------------------------------------------------------------------ tables


def check_service(keys: list[str], service: str) -> None:
    """Refuse a ``--service`` that is not a result row, naming the rows there are."""
    if service not in keys:
        raise UserError(f"--service {service!r} is not a result row: use one of {', '.join(keys)}")


def _row(ds: xr.Dataset, service: str) -> xr.Dataset:
    check_service([str(k) for k in ds["service"].values], service)
    return ds.sel(service=service)


def _label(ds: xr.Dataset) -> str:
    return str(ds["service_label"].values)


def _index(x: float, lo: float, hi: float) -> str:
    """A Sobol estimate and its interval as shown: clipped to [0, 1].

    A negative estimate whose interval holds 0 reads "≈0" rather than a bare
    0.00, so the clipping is visible.
    """
    from .sensitivity import shown_index

    if not np.isfinite(x):
        return "n/a"
    low, high = shown_index([lo, hi])
    value = "\u22480" if x < 0 and lo <= 0 <= hi else f"{shown_index(x):.2f}"
    return f"{value} ({low:.2f}, {high:.2f})"


def short_name(name: str) -> str:
    """An input's name for a table: without the ``services.`` and ``.factors`` parts."""
    if name.startswith("services."):
        return name[len("services.") :]
    return name.replace("inflation.factors.", "inflation.", 1)


def sobol_tables(ds: xr.Dataset, service: str = "total", top: int = DEFAULT_TOP) -> list[Table]:
    """First-order and total Sobol indices of one row, with intervals, by year.

    Shown clipped to [0, 1], with :data:`~simulator.sensitivity.SOBOL_CAVEAT` under each table.
    """
    from .sensitivity import SOBOL_CAVEAT

    row = _row(ds, service)
    years = [str(y) for y in row["financial_year"].values]
    order = np.argsort(-np.nan_to_num(row["total_order"].mean("financial_year").values))
    level = f"{ds.attrs.get('confidence_level', 0.95):.0%}"
    tables = []
    for var, what in (("first_order", "First-order"), ("total_order", "Total")):
        t = _input_by_year_table(
            f"{what} Sobol indices of overspend, {_label(row)}: share of its variance "
            f"({level} interval)",
            years,
        )
        for i in order[:top]:
            cells = [
                _index(*(float(row[f"{var}{s}"].values[i, j]) for s in ("", "_low", "_high")))
                for j in range(len(years))
            ]
            t.add_row(short_name(str(row["input"].values[i])), *cells)
        case = [
            _index(*(float(row[f"case_level_share{s}"].values[j]) for s in ("", "_low", "_high")))
            for j in range(len(years))
        ]
        t.add_row("Case-level randomness (share)", *case, style="bold")
        more = f" {len(order) - top} more inputs in sensitivity.nc." if len(order) > top else ""
        t.caption = SOBOL_CAVEAT + more
        t.caption_justify = "left"
        tables.append(t)
    return tables


def money(x: float) -> str:
    """GBP as £m, or as £k when under £0.1m so small standard errors still show."""
    if np.isfinite(x) and abs(x) < 0.05e6:
        text = f"£{abs(x) / 1e3:,.0f}k"
        return ("-" + text) if round(x / 1e3) < 0 else text
    return gbp_m(x)


def _signed_gbp(x: float) -> str:
    if x == 0:
        return "0"
    return money(x) if x < 0 else "+" + money(x)


def tornado_tables(ds: xr.Dataset, service: str = "total", top: int = DEFAULT_TOP) -> list[Table]:
    """Changes in mean overspend and in P(overspend) with each input low and high."""
    row = _row(ds, service)
    years = [str(y) for y in row["financial_year"].values]
    swing = np.abs(row["tornado_mean_high"] - row["tornado_mean_low"]).values[:, -1]
    order = np.argsort(-swing)
    lo, hi = (f"P{round(q * 100)}" for q in ds.attrs.get("tornado_percentiles", (0.1, 0.9)))
    tables = []
    for stat, what, fmt in (
        ("mean", "mean overspend", _signed_gbp),
        ("p", "probability of overspend (percentage points)", lambda x: f"{x * 100:+.1f}"),
    ):
        t = _input_by_year_table(
            f"Tornado, {_label(row)}: change in {what} with the input at {lo} / {hi}", years
        )
        for i in order[:top]:
            cells = [
                f"{fmt(row[f'tornado_{stat}_low'].values[i, j])} / {fmt(row[f'tornado_{stat}_high'].values[i, j])}"
                for j in range(len(years))
            ]
            t.add_row(short_name(str(row["input"].values[i])), *cells)
        worst = [
            max(row[f"tornado_{stat}_{e}_se"].values[:, j].max() for e in ("low", "high"))
            for j in range(len(years))
        ]
        shown = [money(w) if stat == "mean" else f"{w * 100:.1f}" for w in worst]
        t.add_row("Largest standard error", *shown, style="dim")
        tables.append(t)
    return tables


def _pct(p: float) -> str:
    return f"{p * 100:.0f}%"


def scenario_table(ds: xr.Dataset, service: str = "total") -> Table:
    """Each scenario against the base: P(overspend) and mean overspend, with changes and SEs."""
    row = _row(ds, service)
    t = Table(
        title=f"Scenarios, {_label(row)}: change from the base case ± Monte Carlo standard error",
        title_justify="left",
    )
    for name, justify in (
        ("Scenario", "left"), ("Year", "left"), ("P(overspend)", "right"), ("Change (pp)", "right"),
        ("Mean overspend", "right"), ("Change", "right"),
    ):  # fmt: skip
        t.add_column(name, justify=justify, no_wrap=True)
    scenarios = [str(s) for s in row["scenario"].values]
    for s, name in enumerate(scenarios):
        for y, year in enumerate(row["financial_year"].values):
            v = {k: float(row[k].values[s, y]) for k in row.data_vars if row[k].ndim == 2}
            changes = ("", "")
            if s > 0:
                changes = (
                    f"{v['p_overspend_diff'] * 100:+.1f} ± {v['p_overspend_diff_se'] * 100:.1f}",
                    f"{_signed_gbp(v['mean_overspend_diff'])} ± {money(v['mean_overspend_diff_se'])}",
                )
            t.add_row(
                name if y == 0 else "",
                str(year),
                _pct(v["p_overspend"]),
                changes[0],
                gbp_m(v["mean_overspend"]),
                changes[1],
                end_section=y == row.sizes["financial_year"] - 1,
            )
    return t


@contextlib.contextmanager
def growing_progress_bar(
    description: str,
) -> Iterator[tuple[Callable[[int], None], Callable[[int], None]]]:
    """A progress bar on standard error whose total grows; yields ``(advance, grow)``.

    Shown only on a terminal, like :func:`simulator.console.progress_bar`.
    """
    bar = new_progress()
    with bar:
        task = bar.add_task(description, total=0)
        totals = [0]

        def grow(n: int) -> None:
            totals[0] += n
            bar.update(task, total=totals[0])

        yield (lambda n: bar.advance(task, n)), grow


def _console() -> Console:
    return Console(width=max(Console().width, 150))


# ------------------------------------------------------------------ commands


def _load(args: argparse.Namespace):
    from .config import bundled_config, load_config

    path = bundled_config() if args.config is None else Path(args.config)
    config = load_config(path)
    seed = config.run.seed if args.seed is None else args.seed
    return path, config, seed


def _cmd_sensitivity(args: argparse.Namespace) -> int:
    from .console import progress_bar
    from .model import build_plan
    from .sensitivity import group_inputs, sensitivity_dataset, sobol_model, tornado

    path, config, seed = _load(args)
    target = output_path(args.config, args.out, "sensitivity.nc")
    files.check_file(target, args.force)
    plan = build_plan(config)
    check_service([g.key for g in plan.groups], args.service)
    groups = group_inputs([i.name for i in plan.inputs], args.group)
    if not groups:
        raise UserError(f"{path.name} has no uncertain inputs: nothing to analyse")
    started = time.perf_counter()
    sobol = tornado_result = None
    if args.method in ("both", "sobol"):
        with growing_progress_bar(f"Sobol design, {len(groups)} inputs") as (advance, grow):
            sobol = sobol_model(
                plan, groups, args.samples, seed, n_resamples=args.bootstrap,
                threads=args.threads, progress=advance, planned=grow,
            )  # fmt: skip
    if args.method in ("both", "tornado"):
        draws = args.draws or min(config.run.draws, DEFAULT_TORNADO_DRAWS)
        with progress_bar(draws, f"Tornado, {2 * len(groups) + 1} runs") as advance:
            tornado_result = tornado(
                plan, groups, draws, seed, threads=args.threads, progress=advance
            )
    ds = sensitivity_dataset(plan, groups, seed, args.group, sobol, tornado_result)
    ds.attrs["config_file"] = str(path)
    console = _console()
    if sobol is not None:
        for t in sobol_tables(ds, args.service, args.top):
            console.print(t)
    if tornado_result is not None:
        for t in tornado_tables(ds, args.service, args.top):
            console.print(t)
    write_netcdf(ds, target, force=args.force)
    print(f"\n{len(groups)} inputs (grouped by {args.group}), seed {seed}, "
          f"{time.perf_counter() - started:.1f} s. Written:\n  {target}")  # fmt: skip
    return 0


def _cmd_compare(args: argparse.Namespace) -> int:
    from .console import progress_bar
    from .model import build_plan
    from .scenarios import compare_scenarios

    path, config, seed = _load(args)
    target = output_path(args.config, args.out, "scenarios.nc")
    files.check_file(target, args.force)
    check_service([g.key for g in build_plan(config).groups], args.service)
    names = args.scenario or list(config.scenarios)
    if not names:
        raise UserError(f"{path.name} declares no scenarios: add [scenarios.<name>] tables")
    draws = args.draws or config.run.draws
    started = time.perf_counter()
    with progress_bar(draws * (1 + len(names)), f"{1 + len(names)} scenarios") as advance:
        ds = compare_scenarios(
            config, draws, seed, names, threads=args.threads, progress=advance,
            keep_draws=not args.summary_only, source=path.name,
        )  # fmt: skip
    ds.attrs["config_file"] = str(path)
    _console().print(scenario_table(ds, args.service))
    write_netcdf(ds, target, force=args.force)
    print(f"\n{draws:,} draws per scenario, seed {seed}, "
          f"{time.perf_counter() - started:.1f} s. Written:\n  {target}")  # fmt: skip
    return 0


def _power_of_two(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 2 or value & (value - 1):
        raise argparse.ArgumentTypeError(f"{value} must be a power of two, e.g. 512, 1024, 2048")
    return value


def _input_by_year_table(title: str, years) -> Table:
    """An empty table with a row per input and a column per financial year."""
    t = Table(title=title, title_justify="left")
    t.add_column("Input", no_wrap=True)
    for y in years:
        t.add_column(y, justify="right", no_wrap=True)
    return t


def _common(parser: argparse.ArgumentParser, file: str) -> None:
    parser.add_argument("--service", default="total", help="result row to print (default: total)")
    parser.add_argument("--out", help="results folder (default: results/<config name>)")
    parser.add_argument("--force", action="store_true", help=f"replace an existing {file}")


def register(subparsers) -> None:
    """Add the ``sensitivity`` and ``compare`` commands to the ``overspend`` parser."""
    from .cli import add_run_arguments
    from .sensitivity import GROUPINGS

    sens = subparsers.add_parser(
        "sensitivity",
        help="what drives the overspend: tornado and Sobol indices per service and year",
        description=(
            "Tornado (each input at its 10th and 90th percentile, common random numbers) and "
            "Sobol first-order and total indices with bootstrap intervals and the share left to "
            "case-level randomness, for every service and financial year. Writes "
            "results/<config name>/sensitivity.nc. --draws is the tornado's draws per run "
            f"(default {DEFAULT_TORNADO_DRAWS:,}, or the config's if fewer)."
        ),
    )
    add_run_arguments(sens)
    sens.add_argument(
        "--samples", type=_power_of_two, default=DEFAULT_SAMPLES,
        help=f"Sobol base samples, a power of two (default {DEFAULT_SAMPLES}); the model runs "
        "samples x (groups + 3) draws, plus samples for each group that changes the case-level "
        "draws (arrival rates and growth); groups are the inputs as --group gathers them",
    )  # fmt: skip
    sens.add_argument(
        "--group", choices=GROUPINGS, default="parameter",
        help="parameter: one input per parameter, all years together (default); "
        "input: every per-year input alone; section: one per inflation factor and per service",
    )  # fmt: skip
    sens.add_argument("--method", choices=("both", "sobol", "tornado"), default="both")
    sens.add_argument(
        "--bootstrap", type=positive_int, default=500, help="bootstrap resamples (default 500)"
    )
    sens.add_argument(
        "--top",
        type=positive_int,
        default=DEFAULT_TOP,
        help=f"inputs to print (default {DEFAULT_TOP})",
    )
    _common(sens, "sensitivity.nc")
    sens.set_defaults(handler=_cmd_sensitivity)

    comp = subparsers.add_parser(
        "compare",
        help="run the base case and every scenario on common random numbers and compare them",
        description=(
            "Run the base case and the config's [scenarios] with common random numbers and "
            "report the change in mean overspend and in the probability of overspend, with "
            "standard errors. Writes results/<config name>/scenarios.nc."
        ),
    )
    add_run_arguments(comp)
    comp.add_argument(
        "--scenario", action="append", metavar="NAME",
        help="a scenario to run (repeatable; default: all)",
    )  # fmt: skip
    comp.add_argument(
        "--summary-only", action="store_true", help="leave the per-draw overspend out of the file"
    )
    _common(comp, "scenarios.nc")
    comp.set_defaults(handler=_cmd_compare)
