"""Console tables of sensitivity and scenario results (``overspend sensitivity`` and ``compare``)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

import numpy as np
import xarray as xr
from rich.console import Console
from rich.table import Table

from simulator.errors import UserError
from simulator.present.console import new_progress
from simulator.present.numbers import fixed, gbp_m, money_k_or_m, pct_whole, signed_k_or_m

DEFAULT_TOP = 15


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
    from simulator.analysis.sensitivity import shown_index

    if not np.isfinite(x):
        return "n/a"
    low, high = shown_index([lo, hi])
    value = "\u22480" if x < 0 and lo <= 0 <= hi else fixed(shown_index(x), 2)
    return f"{value} ({fixed(low, 2)}, {fixed(high, 2)})"


def short_name(name: str) -> str:
    """An input's name for a table: without the ``services.`` and ``.factors`` parts."""
    if name.startswith("services."):
        return name[len("services.") :]
    return name.replace("inflation.factors.", "inflation.", 1)


def input_text(ds: xr.Dataset, i: int) -> str:
    """Input ``i`` as a person reads it: its label in words (files from before labels: its name)."""
    if "input_label" in ds.coords:
        return str(ds["input_label"].values[i])
    return short_name(str(ds["input"].values[i]))


def sobol_tables(ds: xr.Dataset, service: str = "total", top: int = DEFAULT_TOP) -> list[Table]:
    """First-order and total Sobol indices of one row, with intervals, by year.

    Shown clipped to [0, 1], with :data:`~simulator.analysis.sensitivity.SOBOL_CAVEAT` under each table.
    """
    from simulator.analysis.sensitivity import SOBOL_CAVEAT

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
            t.add_row(input_text(row, i), *cells)
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


def tornado_tables(ds: xr.Dataset, service: str = "total", top: int = DEFAULT_TOP) -> list[Table]:
    """Changes in mean overspend and in P(overspend) with each input low and high."""
    row = _row(ds, service)
    years = [str(y) for y in row["financial_year"].values]
    swing = np.abs(row["tornado_mean_high"] - row["tornado_mean_low"]).values[:, -1]
    order = np.argsort(-swing)
    lo, hi = (f"P{round(q * 100)}" for q in ds.attrs.get("tornado_percentiles", (0.1, 0.9)))
    tables = []
    for stat, what, fmt in (
        ("mean", "mean overspend", signed_k_or_m),
        (
            "p",
            "probability of overspend (percentage points)",
            lambda x: fixed(x * 100, 1, sign=True),
        ),
    ):
        t = _input_by_year_table(
            f"Tornado, {_label(row)}: change in {what} with the input at {lo} / {hi}", years
        )
        for i in order[:top]:
            cells = [
                f"{fmt(row[f'tornado_{stat}_low'].values[i, j])} / {fmt(row[f'tornado_{stat}_high'].values[i, j])}"
                for j in range(len(years))
            ]
            t.add_row(input_text(row, i), *cells)
        worst = [
            max(row[f"tornado_{stat}_{e}_se"].values[:, j].max() for e in ("low", "high"))
            for j in range(len(years))
        ]
        shown = [money_k_or_m(w) if stat == "mean" else fixed(w * 100, 1) for w in worst]
        t.add_row("Largest standard error", *shown, style="dim")
        tables.append(t)
    return tables


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
                    f"{fixed(v['p_overspend_diff'] * 100, 1, sign=True)} "
                    f"± {fixed(v['p_overspend_diff_se'] * 100, 1)}",
                    f"{signed_k_or_m(v['mean_overspend_diff'])} ± {money_k_or_m(v['mean_overspend_diff_se'])}",
                )
            t.add_row(
                name if y == 0 else "",
                str(year),
                pct_whole(v["p_overspend"]),
                changes[0],
                gbp_m(v["mean_overspend"]),
                changes[1],
                end_section=y == row.sizes["financial_year"] - 1,
            )
    return t


def _input_by_year_table(title: str, years) -> Table:
    """An empty table with a row per input and a column per financial year."""
    t = Table(title=title, title_justify="left")
    t.add_column("Input", no_wrap=True)
    for y in years:
        t.add_column(y, justify="right", no_wrap=True)
    return t


@contextlib.contextmanager
def growing_progress_bar(
    description: str,
) -> Iterator[tuple[Callable[[int], None], Callable[[int], None]]]:
    """A progress bar on standard error whose total grows; yields ``(advance, grow)``.

    Shown only on a terminal, like :func:`simulator.present.console.progress_bar`.
    """
    bar = new_progress()
    with bar:
        task = bar.add_task(description, total=0)
        totals = [0]

        def grow(n: int) -> None:
            totals[0] += n
            bar.update(task, total=totals[0])

        yield (lambda n: bar.advance(task, n)), grow


def wide_console() -> Console:
    return Console(width=max(Console().width, 150))
