"""What the command line prints: progress bars and the summary tables."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator

import numpy as np
import pandas as pd
import xarray as xr
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from simulator.present.numbers import gbp_m, pct_table, pct_whole
from simulator.results.summary import summary_table


def new_progress() -> Progress:
    """A rich progress display on standard error, shown only on a terminal.

    So logs and CI output stay clean.
    """
    console = Console(file=sys.stderr)
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=True,
        disable=not console.is_terminal,
    )


@contextlib.contextmanager
def progress_bar(total: int, description: str) -> Iterator[Callable[[int], None]]:
    """A progress bar on standard error; yields ``advance(n)`` (thread-safe)."""
    bar = new_progress()
    with bar:
        task = bar.add_task(description, total=total)
        yield lambda n: bar.advance(task, n)


def forecast_comparison(ds: xr.Dataset) -> list[str]:
    """Sentences comparing the officer's forecast with the simulation, e.g.

    "Total 2024/25: forecast overspend £9.6m; the simulation puts a 38% chance on a
    worse outturn."
    """
    if "forecast_overspend" not in ds:
        return []
    lines = []
    forecast = ds["forecast_overspend"]
    for g in range(ds.sizes["service"]):
        for y, year in enumerate(ds["financial_year"].values):
            value = float(forecast.values[g, y])
            if np.isnan(value):
                continue
            worse = float((ds["overspend"].values[:, g, y] > value).mean())
            label = ds["service_label"].values[g]
            lines.append(
                f"{label} {year}: forecast overspend {gbp_m(value)}; the simulation puts a "
                f"{pct_whole(worse)} chance on a worse outturn."
            )
    return lines


def summary_tables(ds: xr.Dataset, table: pd.DataFrame | None = None) -> list[Table]:
    """One table per financial year: services, department subtotals and the total, in £m.

    ``table`` is the run's summary table when already computed (see
    :func:`simulator.results.summary.summary_table`).
    """
    table = summary_table(ds) if table is None else table
    tables = []
    for year, rows in table.groupby("financial_year", sort=False):
        t = Table(
            title=f"{ds.attrs.get('council', '')} {year}: overspend (£m; negative is an underspend)",
            title_justify="left",
        )
        for name in ("Service", "Budget", "Median outturn", "P(overspend)", "Mean overspend"):
            if name == "Service":
                t.add_column(name, justify="left", no_wrap=True)
            else:
                t.add_column(name, justify="right", no_wrap=True)
        for name in ("P10", "P50", "P90"):
            t.add_column(name, justify="right")
        for _, r in rows.iterrows():
            style = "bold" if r.service_type in ("department", "total") else None
            t.add_row(
                r.service_label,
                gbp_m(r.budget_gbp),
                gbp_m(r.median_outturn_gbp),
                pct_table(r.p_overspend),
                gbp_m(r.mean_overspend_gbp),
                gbp_m(r.p10_overspend_gbp),
                gbp_m(r.p50_overspend_gbp),
                gbp_m(r.p90_overspend_gbp),
                style=style,
                end_section=r.service_type in ("department", "total"),
            )
        tables.append(t)
    return tables


def print_summary(
    ds: xr.Dataset, console: Console | None = None, table: pd.DataFrame | None = None
) -> None:
    """Print the summary tables (and any forecast comparison) to standard output."""
    console = console or Console(width=max(Console().width, 130))
    if "month_is_actual" in ds.coords and bool(ds["month_is_actual"].any()):
        console.print(f"Actual spend to {ds.attrs['as_of']}; the rest of the year is simulated.")
    for t in summary_tables(ds, table):
        console.print(t)
    for line in forecast_comparison(ds):
        console.print(line)
