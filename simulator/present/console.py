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
def progress_bar(total: int | None, description: str) -> Iterator[Callable[[int], None]]:
    """A progress bar on standard error; yields ``advance(n)`` (thread-safe).

    With ``total`` None the bar counts without pretending to know the end.
    """
    bar = new_progress()
    with bar:
        task = bar.add_task(description, total=total)
        yield lambda n: bar.advance(task, n)


@contextlib.contextmanager
def steps_bar(description: str) -> Iterator[Callable[[int, int], None]]:
    """A progress bar on standard error for work that counts itself; yields ``show(done, total)``.

    The total is set by the first call and stays (the work knows it before it starts).
    """
    bar = new_progress()
    with bar:
        task = bar.add_task(description, total=None)
        yield lambda done, total: bar.update(task, completed=done, total=total)


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


#: The summary's columns: header, header on two lines (narrow terminals), summary table field.
SUMMARY_COLUMNS = (
    ("Budget", "Budget", "budget_gbp"),
    ("Median outturn", "Median\noutturn", "median_outturn_gbp"),
    ("P(overspend)", "P(overspend)", "p_overspend"),
    ("Mean overspend", "Mean\noverspend", "mean_overspend_gbp"),
    ("P10", "P10", "p10_overspend_gbp"),
    ("P50", "P50", "p50_overspend_gbp"),
    ("P90", "P90", "p90_overspend_gbp"),
)

#: Columns left out, in this order, while a table is wider than the terminal: P50 is the
#: median outturn less the budget; the chance of overspend and the 1 in 10 worst (P90) stay.
DROP_ORDER = ("P50", "P10", "Mean overspend")

#: Width for output that is not a terminal (a file, a pipe): every column.
FILE_WIDTH = 130


def summary_tables(
    ds: xr.Dataset, table: pd.DataFrame | None = None, width: int | None = None
) -> list[Table]:
    """One table per financial year: services, department subtotals and the total, in £m.

    ``table`` is the run's summary table when already computed (see
    :func:`simulator.results.summary.summary_table`). With a ``width`` (the
    terminal's, in characters) each table is made to fit it: first its headers
    go on two lines, then P50, P10 and the mean overspend are left out (a
    caption says so; ``summary.csv`` has every column), and last the service
    names wrap. Without one, every column is shown.
    """
    table = summary_table(ds) if table is None else table
    tables = []
    for year, rows in table.groupby("financial_year", sort=False):
        title = f"{ds.attrs.get('council', '')} {year}: overspend (£m; negative is an underspend)"
        for two_lines, dropped in _layouts():
            t = _summary_table(title, rows, two_lines, dropped)
            if width is None or _table_width(t, width) <= width:
                break
        tables.append(t)
    return tables


def _layouts() -> Iterator[tuple[bool, tuple[str, ...]]]:
    """Ever narrower layouts: (headers on two lines, columns left out)."""
    yield False, ()
    for n in range(len(DROP_ORDER) + 1):
        yield True, DROP_ORDER[:n]


def _table_width(t: Table, width: int) -> int:
    """Characters ``t`` takes with no cell wrapped."""
    console = Console(width=max(width, 1000))
    return console.measure(t).maximum


def _summary_table(title: str, rows: pd.DataFrame, two_lines: bool, dropped: tuple) -> Table:
    t = Table(title=title, title_justify="left")
    t.add_column("Service", justify="left", overflow="fold")
    columns = [c for c in SUMMARY_COLUMNS if c[0] not in dropped]
    for name, short, _ in columns:
        t.add_column(short if two_lines else name, justify="right", no_wrap=True)
    for _, r in rows.iterrows():
        style = "bold" if r.service_type in ("department", "total") else None
        cells = [
            pct_table(r[field]) if field == "p_overspend" else gbp_m(r[field])
            for _, _, field in columns
        ]
        t.add_row(
            r.service_label,
            *cells,
            style=style,
            end_section=r.service_type in ("department", "total"),
        )
    if dropped:
        left_out = [name for name, _, _ in SUMMARY_COLUMNS if name in dropped]
        t.caption = f"Left out to fit: {', '.join(left_out)} (summary.csv has every column)."
        t.caption_justify = "left"
    return t


def summary_console() -> Console:
    """The console for the summary: the terminal's width, or every column when not a terminal."""
    console = Console()
    return console if console.is_terminal else Console(width=max(console.width, FILE_WIDTH))


def print_summary(
    ds: xr.Dataset, console: Console | None = None, table: pd.DataFrame | None = None
) -> None:
    """Print the summary tables (and any forecast comparison), fitted to the console's width."""
    console = console or summary_console()
    if "month_is_actual" in ds.coords and bool(ds["month_is_actual"].any()):
        console.print(f"Actual spend to {ds.attrs['as_of']}; the rest of the year is simulated.")
    for t in summary_tables(ds, table, width=console.width):
        console.print(t)
    for line in forecast_comparison(ds):
        console.print(line)
    console.print(reserve_summary_line(ds))


def reserve_summary_line(ds: xr.Dataset) -> str:
    """The 90% reserve of all services together, every year, in one line (issue 14)."""
    from simulator.present.answers import reserve_line
    from simulator.results.reserve import reserve_dataset

    return reserve_line(reserve_dataset(ds, services=["total"]), 0.9)
