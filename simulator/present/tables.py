"""Console tables of sensitivity and scenario results (``overspend sensitivity`` and ``compare``)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

import numpy as np
import xarray as xr
from rich.cells import cell_len
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from simulator.errors import UserError
from simulator.present.answers import scenario_label, scenario_stats
from simulator.present.console import new_progress
from simulator.present.labels import dataset_input_words
from simulator.present.numbers import fixed, money_unit, pct_whole

DEFAULT_TOP = 15

#: Width of the tables written to a file or a pipe (every column shown).
FILE_WIDTH = 150

#: The least width of a column of names that wrap, characters.
INPUT_MIN_WIDTH = 18


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
    """Input ``i`` as a person reads it: in words, with the config's labels and descriptions."""
    return input_texts(ds)[i]


def input_texts(ds: xr.Dataset) -> list[str]:
    """Every input of a sensitivity file in words (see :mod:`simulator.present.labels`)."""
    names = [str(n) for n in ds["input"].values]
    if "config" in ds.attrs:
        words = dataset_input_words(ds, names)
        return [words[n] for n in names]
    if "input_label" in ds.coords:
        return [str(v) for v in ds["input_label"].values]
    return [short_name(n) for n in names]


def terminal_width() -> int | None:
    """The terminal's width in characters, or None when output goes to a file or a pipe."""
    console = Console()
    return console.width if console.is_terminal else None


def _fits(t: Table, width: int | None) -> bool:
    """Whether ``t`` fits ``width`` characters with its wrappable columns at their least width.

    Counted here rather than by rich's measurement, which gives no-wrap columns
    less than their content (rich would then cut it short with an ellipsis).
    """
    if width is None:
        return True
    need = 3 * len(t.columns) + 1  # a rule and a space either side of each column
    for column in t.columns:
        texts = [str(column.header), *(str(c) for c in column._cells)]
        if column.no_wrap:
            need += max(max(cell_len(x) for x in line.split("\n")) for line in texts)
        else:
            need += column.min_width or 1
    return need <= width


def fit_table(make: Callable[[tuple[str, ...]], Table], droppable, width: int | None, what: str):
    """The table ``make(left_out)`` with as few of ``droppable`` left out as fit ``width``.

    A caption names what was left out and where the whole table is (``what``).
    """
    for n in range(len(droppable) + 1):
        left_out = tuple(droppable[:n])
        t = make(left_out)
        if _fits(t, width):
            break
    if left_out:
        note = f"Left out to fit the terminal: {', '.join(left_out)} ({what} has them all)."
        t.caption = f"{t.caption} {note}" if t.caption else note
        t.caption_justify = "left"
    return t


def _year_drops(years: list[str]) -> list[str]:
    """Years a by-year table leaves out, in order, to fit: the middle ones latest first, then
    the last (the first year always stays)."""
    return [*years[1:-1][::-1], *years[-1:]] if len(years) > 1 else []


def sobol_tables(
    ds: xr.Dataset, service: str = "total", top: int = DEFAULT_TOP, width: int | None = None
) -> list[Table]:
    """First-order and total Sobol indices of one row, with intervals, by year.

    Shown clipped to [0, 1], with :data:`~simulator.analysis.sensitivity.SOBOL_CAVEAT` under
    each table. Fitted to ``width`` characters (default: the terminal's; every year when
    output is not a terminal): input names wrap, then later years are left out.
    """
    from simulator.analysis.sensitivity import SOBOL_CAVEAT

    row = _row(ds, service)
    years = [str(y) for y in row["financial_year"].values]
    order = np.argsort(-np.nan_to_num(row["total_order"].mean("financial_year").values))
    level = f"{ds.attrs.get('confidence_level', 0.95):.0%}"
    words = input_texts(ds)
    width = terminal_width() if width is None else width
    tables = []
    for var, what in (("first_order", "First-order"), ("total_order", "Total")):

        def make(left_out: tuple[str, ...], var=var, what=what) -> Table:
            shown = [j for j, y in enumerate(years) if y not in left_out]
            t = _input_by_year_table(
                f"{what} Sobol indices of overspend, {_label(row)}: share of its variance "
                f"({level} interval)",
                [years[j] for j in shown],
            )
            for i in order[:top]:
                cells = [
                    _index(*(float(row[f"{var}{s}"].values[i, j]) for s in ("", "_low", "_high")))
                    for j in shown
                ]
                t.add_row(words[i], *cells)
            case = [
                _index(
                    *(float(row[f"case_level_share{s}"].values[j]) for s in ("", "_low", "_high"))
                )
                for j in shown
            ]
            t.add_row("Case-level randomness (share)", *case, style="bold")
            more = f" {len(order) - top} more inputs in sensitivity.nc." if len(order) > top else ""
            t.caption = SOBOL_CAVEAT + more
            t.caption_justify = "left"
            return t

        tables.append(fit_table(make, _year_drops(years), width, "sensitivity.nc"))
    return tables


def tornado_tables(
    ds: xr.Dataset, service: str = "total", top: int = DEFAULT_TOP, width: int | None = None
) -> list[Table]:
    """Changes in mean overspend and in P(overspend) with each input low and high.

    Fitted to ``width`` like :func:`sobol_tables`.
    """
    row = _row(ds, service)
    words = input_texts(ds)
    width = terminal_width() if width is None else width
    years = [str(y) for y in row["financial_year"].values]
    swing = np.abs(row["tornado_mean_high"] - row["tornado_mean_low"]).values[:, -1]
    order = np.argsort(-swing)
    lo, hi = (f"P{round(q * 100)}" for q in ds.attrs.get("tornado_percentiles", (0.1, 0.9)))
    tables = []
    unit = money_unit(np.concatenate([
        np.ravel(row[f"tornado_mean_{e}{se}"].values) for e in ("low", "high") for se in ("", "_se")
    ]))  # fmt: skip

    def signed(x: float) -> str:
        return "0" if x == 0 else unit(x) if x < 0 else "+" + unit(x)

    for stat, what, fmt in (
        ("mean", "mean overspend", signed),
        (
            "p",
            "probability of overspend (percentage points)",
            lambda x: fixed(x * 100, 1, sign=True),
        ),
    ):

        def make(left_out: tuple[str, ...], stat=stat, what=what, fmt=fmt) -> Table:
            shown = [j for j, y in enumerate(years) if y not in left_out]
            t = _input_by_year_table(
                f"Tornado, {_label(row)}: change in {what} with the input at {lo} / {hi}",
                [years[j] for j in shown],
            )
            for i in order[:top]:
                cells = [
                    f"{fmt(row[f'tornado_{stat}_low'].values[i, j])} / "
                    f"{fmt(row[f'tornado_{stat}_high'].values[i, j])}"
                    for j in shown
                ]
                t.add_row(words[i], *cells)
            worst = [
                max(row[f"tornado_{stat}_{e}_se"].values[:, j].max() for e in ("low", "high"))
                for j in shown
            ]
            ses = [unit(w) if stat == "mean" else fixed(w * 100, 1) for w in worst]
            t.add_row("Largest standard error", *ses, style="dim")
            return t

        tables.append(fit_table(make, _year_drops(years), width, "sensitivity.nc"))
    return tables


def scenario_table(ds: xr.Dataset, service: str = "total", width: int | None = None) -> Table:
    """Each scenario against the base: P(overspend) and mean overspend, with changes and SEs.

    Scenarios are named by their descriptions (which wrap); money is in one unit
    for the whole table. Fitted to ``width`` characters (default: the terminal's):
    the mean overspend column, then the later years are left out.
    """
    row = _row(ds, service)
    years = [str(y) for y in row["financial_year"].values]
    names = [scenario_label(ds, s) for s in range(ds.sizes["scenario"])]
    stats = scenario_stats(ds, service)
    money_values = [
        stats[k] for k in ("mean_overspend", "mean_overspend_diff", "mean_overspend_diff_se")
    ]
    money = money_unit(np.concatenate([np.ravel(v) for v in money_values]))
    width = terminal_width() if width is None else width

    def make(left_out: tuple[str, ...]) -> Table:
        t = Table(
            title=f"Scenarios, {_label(row)}: change from the base case ± Monte Carlo standard "
            "error",
            title_justify="left",
        )
        t.add_column("Scenario", overflow="fold", min_width=INPUT_MIN_WIDTH)
        columns = [c for c in SCENARIO_COLUMNS if c not in left_out]
        for name in columns:
            t.add_column(name, justify="left" if name == "Year" else "right", no_wrap=True)
        shown = [y for y in range(len(years)) if years[y] not in left_out]
        for s, name in enumerate(names):
            for y in shown:
                cells = _scenario_cells(stats, years[y], s, y, money)
                t.add_row(
                    name if y == shown[0] else "",
                    *(cells[c] for c in columns),
                    end_section=y == shown[-1],
                )
        return t

    return fit_table(make, ["Mean overspend", *_year_drops(years)], width, "scenarios.nc")


#: The scenario table's columns after the scenario's name.
SCENARIO_COLUMNS = ("Year", "P(overspend)", "Change (pp)", "Mean overspend", "Change")


def _scenario_cells(stats: dict, year: str, s: int, y: int, money: Callable) -> dict:
    """The cells of scenario ``s`` in year ``y`` (``stats`` from :func:`scenario_stats`)."""
    v = {k: float(a[s, y]) for k, a in stats.items()}
    changes = ("", "")
    if s > 0:
        mean = money(v["mean_overspend_diff"])
        changes = (
            f"{fixed(v['p_overspend_diff'] * 100, 1, sign=True)} "
            f"± {fixed(v['p_overspend_diff_se'] * 100, 1)}",
            f"{'' if mean.startswith('-') else '+'}{mean} ± {money(v['mean_overspend_diff_se'])}",
        )
    return {
        "Year": year,
        "P(overspend)": pct_whole(v["p_overspend"]),
        "Change (pp)": changes[0],
        "Mean overspend": money(v["mean_overspend"]),
        "Change": changes[1],
    }


def _input_by_year_table(title: str, years) -> Table:
    """An empty table with a row per input (names wrap) and a column per financial year."""
    t = Table(title=title, title_justify="left")
    t.add_column("Input", overflow="fold", min_width=INPUT_MIN_WIDTH)
    for y in years:
        t.add_column(y, justify="right", no_wrap=True)
    return t


@contextlib.contextmanager
def growing_progress_bar(
    description: str, bar: Progress | None = None
) -> Iterator[tuple[Callable[[int], None], Callable[[int], None]]]:
    """Progress of work planned in steps; yields ``(advance, grow)``.

    Each ``grow(n)`` starts a bar of its own with a total of ``n`` that never
    changes (the first is ``description``; later ones, such as the Sobol
    design's re-runs on fresh cases, say they are more work), and ``advance``
    moves the latest. A total that grew mid-run made the first bar jump back
    from nearly done. Shown only on a terminal, like
    :func:`simulator.present.console.progress_bar`; ``bar`` is for tests.
    """
    bar = bar or new_progress()
    with bar:
        tasks: list = []

        def grow(n: int) -> None:
            if tasks:  # the earlier step is over: show it complete
                bar.update(tasks[-1], completed=bar.tasks[-1].total)
            label = description if not tasks else f"{description}, step {len(tasks) + 1}"
            tasks.append(bar.add_task(label, total=n))

        def advance(n: int) -> None:
            if not tasks:  # work that was never planned: a bar without a total
                tasks.append(bar.add_task(description, total=None))
            bar.advance(tasks[-1], n)

        yield advance, grow


def wide_console() -> Console:
    """The console for the sensitivity and scenario tables.

    The terminal's own width (the tables fit it: see :func:`fit_table`); output
    to a file or a pipe is :data:`FILE_WIDTH` wide, with every column.
    """
    width = terminal_width()
    return Console(width=width) if width is not None else Console(width=FILE_WIDTH)
