"""``summary.xlsx``: the run's results laid out for a finance team.

Sheets, each written by a function of its own so that another sheet (a
reserve, say) is one more function called with :func:`table_sheet`:

- **Summary**: services down, years across (budget, median outturn, chance of
  overspend, mean overspend, 10th and 90th percentiles), department subtotals
  and the total in bold, frozen panes;
- **one sheet per financial year** in detail, with Monte Carlo standard errors;
- **Scenarios** (when scenario results are given), with their descriptions;
- **Drivers**: each line's share of the uncertainty in the total, by year;
- **Assumptions**: the model in words, as the report says it;
- **Monthly percentiles**, **Headlines** and **About** (run details);
- **Iterations** (optional): one row per draw, for teams that pivot themselves.

Amounts are stored in pounds to the penny, the same numbers as ``summary.csv``,
and shown by Excel number formats in £m to one decimal (Excel rounds halves
away from zero, as :mod:`simulator.present.numbers` does). Labels, never ids,
name the rows. openpyxl is imported only when the workbook is written.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from simulator.present import charts
from simulator.present.charts import RunInfo
from simulator.present.report.words import headlines
from simulator.results.summary import summary_table

PERCENTILES = (0.1, 0.25, 0.5, 0.75, 0.9)

#: Excel number formats: pounds shown as £m to one decimal, negatives red with a minus.
MONEY_M = '£#,##0.0,,"m";[Red]-£#,##0.0,,"m";£0.0,,"m"'
MONEY = "£#,##0;[Red]-£#,##0;£0"
PERCENT = "0%"
PERCENT_1 = "0.0%"
POINTS = '+0.0" pp";-0.0" pp";0.0" pp"'
#: Cells the Iterations sheet may hold at most (rows times columns): Excel opens a sheet
#: of this size in seconds; a larger run is cut to its first draws, and the sheet says so.
MAX_ITERATION_CELLS = 1_000_000
#: Excel's own limit on rows in a sheet.
EXCEL_ROWS = 1_048_576

_HEADER_FILL = "DCE6F1"
_SUMMARY_MEASURES = (
    ("Budget", "budget_gbp", MONEY_M),
    ("Median outturn", "median_outturn_gbp", MONEY_M),
    ("P(overspend)", "p_overspend", PERCENT),
    ("Mean overspend", "mean_overspend_gbp", MONEY_M),
    ("P10", "p10_overspend_gbp", MONEY_M),
    ("P90", "p90_overspend_gbp", MONEY_M),
)
_DETAIL_COLUMNS = (
    ("Budget", "budget_gbp", MONEY),
    ("Median outturn", "median_outturn_gbp", MONEY),
    ("Mean outturn", "mean_outturn_gbp", MONEY),
    ("P(overspend)", "p_overspend", PERCENT_1),
    ("± (standard error)", "p_overspend_se", PERCENT_1),
    ("Mean overspend", "mean_overspend_gbp", MONEY),
    ("± ", "mean_overspend_se_gbp", MONEY),
    ("P10 overspend", "p10_overspend_gbp", MONEY),
    ("± ", "p10_overspend_se_gbp", MONEY),
    ("P50 overspend", "p50_overspend_gbp", MONEY),
    ("± ", "p50_overspend_se_gbp", MONEY),
    ("P90 overspend", "p90_overspend_gbp", MONEY),
    ("± ", "p90_overspend_se_gbp", MONEY),
)


def pence(x: float) -> float | None:
    """An amount in pounds as ``summary.csv`` writes it (to the penny); ``None`` if missing."""
    return float(f"{x:.2f}") if np.isfinite(x) else None


def _value(column: str, x) -> object:
    if isinstance(x, np.generic):
        x = x.item()
    if column.endswith("_gbp") and isinstance(x, float):
        return pence(x)
    if isinstance(x, float) and not np.isfinite(x):
        return None
    return x


# ------------------------------------------------------------------ building blocks


def _style():
    from openpyxl.styles import Alignment, Font, PatternFill

    return {
        "bold": Font(bold=True),
        "title": Font(bold=True, size=13),
        "fill": PatternFill("solid", fgColor=_HEADER_FILL),
        "wrap": Alignment(wrap_text=True, vertical="top"),
        "centre": Alignment(horizontal="center", vertical="top", wrap_text=True),
        "indent": Alignment(indent=1),
    }


def put(ws, row: int, col: int, value):
    """Write ``value`` into a cell; text is always text, never a live formula."""
    cell = ws.cell(row=row, column=col, value=value)
    if cell.data_type == "f":
        cell.data_type = "s"
    return cell


def table_sheet(
    wb,
    title: str,
    columns: Sequence[tuple[str, str | None, float]],
    rows: Sequence[Sequence[object]],
    strong: Sequence[bool] = (),
    heading: str | None = None,
    freeze_col: int = 1,
):
    """A sheet holding one table: a bold header row, number formats, frozen panes.

    Parameters
    ----------
    wb : openpyxl.Workbook
    title : str
        Sheet name (at most 31 characters, no ``/``).
    columns : sequence of (header, number format or None, width in characters)
    rows : sequence of row values (amounts in pounds, chances as fractions)
    strong : sequence of bool, optional
        Rows drawn in bold (subtotals).
    heading : str, optional
        A title line above the table.
    freeze_col : int
        Columns kept in view when scrolling right.

    Returns
    -------
    openpyxl worksheet
    """
    from openpyxl.utils import get_column_letter

    s = _style()
    ws = wb.create_sheet(title)
    top = 1
    if heading:
        put(ws, 1, 1, heading).font = s["title"]
        top = 3
    for j, (header, _, width) in enumerate(columns, start=1):
        cell = put(ws, top, j, header)
        cell.font, cell.fill, cell.alignment = s["bold"], s["fill"], s["wrap"]
        ws.column_dimensions[get_column_letter(j)].width = width
    for i, row in enumerate(rows, start=top + 1):
        bold = i - top - 1 < len(strong) and strong[i - top - 1]
        for j, value in enumerate(row, start=1):
            cell = put(ws, i, j, value)
            fmt = columns[j - 1][1] if j <= len(columns) else None
            if fmt and isinstance(value, int | float) and not isinstance(value, bool):
                cell.number_format = fmt
            if bold:
                cell.font = s["bold"]
    ws.freeze_panes = ws.cell(row=top + 1, column=freeze_col + 1)
    return ws


def _title(ds: xr.Dataset, what: str) -> str:
    return f"{ds.attrs.get('council', '')}: {what}"


def _strong(table: pd.DataFrame) -> list[bool]:
    return [t in ("department", "total") for t in table["service_type"]]


def _rows_in_order(table: pd.DataFrame) -> pd.DataFrame:
    """One row per result row (service, department, total) in the results' order."""
    return table.drop_duplicates("service")[["service", "service_label", "service_type"]]


# ------------------------------------------------------------------ sheets


def summary_sheet(wb, ds: xr.Dataset, table: pd.DataFrame):
    """Summary: services down, years across, in £m; subtotals and the total in bold."""
    from openpyxl.utils import get_column_letter

    s = _style()
    ws = wb.create_sheet("Summary")
    years = list(dict.fromkeys(table["financial_year"]))
    put(ws, 1, 1, _title(ds, "overspend by service and year (£m; negative is an underspend)"))
    ws["A1"].font = s["title"]
    put(ws, 3, 1, "Service").font = s["bold"]
    ws.merge_cells(start_row=3, start_column=1, end_row=4, end_column=1)
    ws["A3"].fill, ws["A3"].alignment = s["fill"], s["wrap"]
    ws.column_dimensions["A"].width = 42
    width = len(_SUMMARY_MEASURES)
    for y, year in enumerate(years):
        first = 2 + y * width
        head = put(ws, 3, first, year)
        head.font, head.fill, head.alignment = s["bold"], s["fill"], s["centre"]
        ws.merge_cells(start_row=3, start_column=first, end_row=3, end_column=first + width - 1)
        for k, (name, _, _) in enumerate(_SUMMARY_MEASURES):
            cell = put(ws, 4, first + k, name)
            cell.font, cell.fill, cell.alignment = s["bold"], s["fill"], s["centre"]
            ws.column_dimensions[get_column_letter(first + k)].width = 12
    by_key = table.set_index(["service", "financial_year"])
    order = _rows_in_order(table)
    for i, row in enumerate(order.itertuples(index=False), start=5):
        bold = row.service_type in ("department", "total")
        label = put(ws, i, 1, row.service_label)
        if bold:
            label.font = s["bold"]
        else:
            label.alignment = s["indent"]
        for y, year in enumerate(years):
            values = by_key.loc[(row.service, year)]
            for k, (_, column, fmt) in enumerate(_SUMMARY_MEASURES):
                cell = put(ws, i, 2 + y * width + k, _value(column, values[column]))
                cell.number_format = fmt
                if bold:
                    cell.font = s["bold"]
    ws.freeze_panes = "B5"
    note = 6 + len(order)
    put(ws, note, 1, "Amounts are stored in pounds to the penny (as summary.csv) and shown in £m.")
    put(ws, note + 1, 1, "P10 and P90: the overspend is below these in 10% and 90% of futures.")
    return ws


def year_sheet(wb, ds: xr.Dataset, table: pd.DataFrame, year: str):
    """One financial year in detail, with Monte Carlo standard errors (±), in pounds."""
    part = table[table["financial_year"] == year]
    departments = dict(
        zip(ds["service"].values.astype(str), ds["department"].values.astype(str), strict=True)
    )
    columns = [("Service", None, 42), ("Department", None, 28)]
    columns += [(name, fmt, 14) for name, _, fmt in _DETAIL_COLUMNS]
    rows = [
        [r["service_label"], departments.get(r["service"], "")]
        + [_value(c, r[c]) for _, c, _ in _DETAIL_COLUMNS]
        for _, r in part.iterrows()
    ]
    title = year.replace("/", "-")  # "/" may not appear in a sheet name
    return table_sheet(
        wb,
        title,
        columns,
        rows,
        _strong(part),
        heading=_title(ds, f"{year} in detail (pounds; ± is the Monte Carlo standard error)"),
    )


def scenarios_sheet(wb, ds: xr.Dataset, scen: xr.Dataset):
    """Scenarios against the base case (the total), with their descriptions."""
    from simulator.present.answers import scenario_rows

    columns = [
        ("Scenario", None, 60),
        ("Year", None, 10),
        ("P(overspend)", PERCENT, 13),
        ("Change", POINTS, 12),
        ("± (standard error)", POINTS, 12),
        ("Mean overspend", MONEY_M, 15),
        ("Change", MONEY_M, 12),
        ("± (standard error)", MONEY, 14),
    ]
    rows = [
        [
            r["description"],
            r["financial_year"],
            r["p_overspend"],
            _value("x", r["p_overspend_change"] * 100),
            _value("x", r["p_overspend_change_se"] * 100),
            pence(r["mean_overspend_gbp"]),
            pence(r["mean_overspend_change_gbp"]),
            pence(r["mean_overspend_change_se_gbp"]),
        ]
        for r in scenario_rows(scen)
    ]
    return table_sheet(
        wb, "Scenarios", columns, rows,
        heading=_title(ds, "scenarios, the total against the base case (same simulated futures)"),
    )  # fmt: skip


def drivers_sheet(wb, ds: xr.Dataset):
    """What drives the total's risk each year: each line's share of its variance."""
    columns = [
        ("Year", None, 10),
        ("Service", None, 42),
        ("Department", None, 28),
        ("Share of the uncertainty", PERCENT, 14),
        ("Mean overspend in the worst 10% of years", MONEY_M, 18),
    ]
    rows = []
    for year in ds["financial_year"].values.astype(str):
        d = charts.drivers_data(ds, year)
        rows += [
            [year, label, dept, float(share), pence(float(tail))]
            for label, dept, share, tail in zip(
                d.labels, d.departments, d.variance_share, d.tail_mean, strict=True
            )
        ]
    return table_sheet(
        wb, "Drivers", columns, rows,
        heading=_title(ds, "the lines that drive the total's risk, largest first in each year"),
    )  # fmt: skip


def reserve_sheet(reserve: xr.Dataset) -> SheetWriter:
    """A writer of the Reserve sheet: contingency for 80/90/95% confidence and savings to evens.

    ``reserve`` is :func:`simulator.results.reserve.reserve_dataset` of the run.
    """
    from simulator.results.reserve import reserve_rows

    def write(wb, ds: xr.Dataset):
        rows = reserve_rows(reserve)
        levels = [round(float(c) * 100) for c in reserve["confidence"].values]
        columns = [("Year", None, 10), ("Service", None, 42), ("Chance of overspend", PERCENT, 12)]
        columns += [(f"Reserve for {p}% confidence", MONEY_M, 14) for p in levels]
        names = [f"reserve_{p}_gbp" for p in levels]
        for name, header in (
            ("expected_shortfall_gbp", "Mean overspend in the worst 1 in 20"),
            ("savings_to_evens_gbp", "Extra savings for a 50% chance"),
            ("savings_to_target_gbp", "Extra savings for the target chance"),
        ):
            if rows and name in rows[0]:
                columns.append((header, MONEY_M, 16))
                names.append(name)
        body = [
            [r["financial_year"], r["service_label"], r["p_overspend"]]
            + [_value(n, float(r[n])) for n in names]
            for r in rows
        ]
        return table_sheet(
            wb, "Reserve", columns, body,
            heading=_title(ds, "the reserve that covers the overspend, and the savings to evens"),
        )  # fmt: skip

    return write


def worst_outcomes_sheet(wb, ds: xr.Dataset):
    """Each line's part in the total's worst 1 in 10 futures, every year."""
    from simulator.analysis.tail import tail_attribution, tail_rows

    columns = [
        ("Year", None, 10),
        ("Service", None, 42),
        ("Mean overspend", MONEY_M, 14),
        ("Share on average", PERCENT, 11),
        ("Mean overspend in the worst 1 in 10", MONEY_M, 16),
        ("Share there", PERCENT, 11),
        ("New starts: average", "0.0", 11),
        ("New starts: worst 1 in 10", "0.0", 11),
        ("High-cost open: average", "0.0", 11),
        ("High-cost open: worst 1 in 10", "0.0", 11),
    ]
    keys = (
        "mean_overspend_gbp", "share_average", "worst_futures_overspend_gbp",
        "share_worst_futures", "arrivals_average", "arrivals_worst_futures",
        "high_cost_open_average", "high_cost_open_worst_futures",
    )  # fmt: skip
    body = []
    for year in ds["financial_year"].values.astype(str):
        for r in tail_rows(tail_attribution(ds, year)):
            values = [_value(k, float(r.get(k, float("nan")))) for k in keys]
            body.append([year, r["service_label"], *values])
    return table_sheet(
        wb, "Worst outcomes", columns, body,
        heading=_title(ds, "each line's part in the total's worst 1 in 10 futures"),
    )  # fmt: skip


def assumptions_sheet(wb, ds: xr.Dataset):
    """The model's assumptions in words, as the report's "Key assumptions" section says them."""
    from simulator.present.report.assumptions import key_assumptions
    from simulator.present.report.blocks import Bullets, Heading, Paragraph, Table

    s = _style()
    ws = wb.create_sheet("Assumptions")
    ws.column_dimensions["A"].width = 120
    put(ws, 1, 1, _title(ds, "assumptions")).font = s["title"]
    row = 3
    for block in key_assumptions(ds):
        if isinstance(block, Heading):
            put(ws, row, 1, block.text).font = s["bold"]
        elif isinstance(block, Paragraph):
            put(ws, row, 1, block.text).alignment = s["wrap"]
        elif isinstance(block, Bullets):
            for item in block.items:
                put(ws, row, 1, f"\u2022 {item}").alignment = s["wrap"]
                row += 1
            continue
        elif isinstance(block, Table):
            for line in [block.columns, *block.rows]:
                for j, text in enumerate(line, start=1):
                    put(ws, row, j, text)
                row += 1
        row += 1
    return ws


def monthly_sheet(wb, ds: xr.Dataset):
    """Monthly and cumulative net spend percentiles by service (see :func:`monthly_percentiles`)."""
    frame = monthly_percentiles(ds)
    # the same row names as the Summary ("Total", not the charts' "All services")
    labels = dict(
        zip(ds["service"].values.astype(str), ds["service_label"].values.astype(str), strict=True)
    )
    frame["service_label"] = [labels[k] for k in frame["service"]]
    names = {
        "service_label": ("Service", None, 36),
        "financial_year": ("Year", None, 9),
        "month": ("Month", "mmm yyyy", 10),
        "actual": ("Actual spend", None, 8),
        "budget_gbp": ("Budget", MONEY, 13),
        "spend_mean_gbp": ("Mean spend", MONEY, 13),
        "cumulative_budget_gbp": ("Budget to date", MONEY, 14),
    }
    for q in PERCENTILES:
        p = round(q * 100)
        names[f"spend_p{p}_gbp"] = (f"Spend P{p}", MONEY, 13)
        names[f"cumulative_p{p}_gbp"] = (f"Spend to date P{p}", MONEY, 14)
    order = [c for c in frame.columns if c in names]
    rows = [[_value(c, v) for c, v in zip(order, r, strict=True)] for r in frame[order].values]
    strong = [t in ("department", "total") for t in _types(ds, frame["service"])]
    return table_sheet(
        wb,
        "Monthly percentiles",
        [names[c] for c in order],
        rows,
        strong,
        heading=_title(ds, "net spend by month, and to date within each year (pounds)"),
    )


def _types(ds: xr.Dataset, keys) -> list[str]:
    kinds = dict(
        zip(ds["service"].values.astype(str), ds["service_type"].values.astype(str), strict=True)
    )
    return [kinds.get(k, "") for k in keys]


def headlines_sheet(wb, ds: xr.Dataset):
    """The headline sentences, one per result row and year."""
    rows = [[h.financial_year, h.label, h.text] for h in headlines(ds)]
    columns = [("Year", None, 10), ("Service", None, 40), ("Headline", None, 120)]
    return table_sheet(wb, "Headlines", columns, rows)


def about_sheet(wb, ds: xr.Dataset, notes: Sequence[str] = ()):
    """Run details: council, draws, seed, date, version, where the config came from."""
    run = RunInfo.from_dataset(ds)
    rows = [
        ("Council", run.council),
        ("Simulated futures (draws)", run.draws),
        ("Seed", run.seed),
        ("Run", run.created),
        ("overspend version", run.version),
    ]
    if ds.attrs.get("config_source"):
        rows.append(("Config", str(ds.attrs["config_source"])))
    rows += [
        (
            "Money",
            "pounds, cash terms; overspend = net outturn minus budget (negative: underspend)",
        ),
        ("Chances", "P(overspend): the share of simulated futures that overspend"),
        ("±", "Monte Carlo standard error: how much the figure would move in another run"),
        *(("Note", n) for n in notes),
    ]
    return table_sheet(wb, "About", [("", None, 28), ("", None, 100)], [list(r) for r in rows])


def iterations_sheet(wb, ds: xr.Dataset, max_cells: int = MAX_ITERATION_CELLS):
    """Iterations: one row per draw, the overspend of every result row and year (pounds).

    Cut to the first draws when the sheet would pass ``max_cells`` cells or
    Excel's row limit; a line above the table says so.
    """
    keys = ds["service"].values.astype(str)
    labels = ds["service_label"].values.astype(str)
    years = ds["financial_year"].values.astype(str)
    cols = len(keys) * len(years)
    draws = ds.sizes["draw"]
    kept = int(min(draws, max(1, max_cells // (cols + 1)), EXCEL_ROWS - 3))
    over = ds["overspend"].isel(draw=slice(0, kept)).transpose("draw", "service", "financial_year")
    values = np.round(np.asarray(over.values, dtype=float), 2).reshape(kept, cols)
    columns = [("Draw", None, 8)] + [
        (f"{label} {year}", MONEY, 16) for label in labels for year in years
    ]
    rows = [[d + 1, *map(float, values[d])] for d in range(kept)]
    cut = f" (the first {kept:,} of {draws:,} draws, to keep the sheet a size Excel handles)"
    heading = _title(
        ds, "overspend in each simulated future, pounds" + (cut if kept < draws else "")
    )
    return table_sheet(wb, "Iterations", columns, rows, heading=heading)


#: A sheet writer: called with the workbook and the results; adds one sheet.
SheetWriter = Callable[[object, xr.Dataset], object]


def build_summary_workbook(
    ds: xr.Dataset,
    scenarios: xr.Dataset | None = None,
    iterations: bool = False,
    extra: Sequence[SheetWriter] = (),
    table: pd.DataFrame | None = None,
):
    """The finance workbook of a run (an openpyxl Workbook, not yet saved).

    Parameters
    ----------
    ds : xarray.Dataset
        A run's results.
    scenarios : xarray.Dataset, optional
        ``scenarios.nc`` of the same run: adds the Scenarios sheet.
    iterations : bool
        Add the Iterations sheet (one row per draw).
    extra : sequence of callables
        More sheets, each ``writer(wb, ds)``, added after Drivers (a reserve sheet, say).
    table : pandas.DataFrame, optional
        The :func:`~simulator.results.summary.summary_table` of ``ds``, when already made.
    """
    from openpyxl import Workbook

    table = summary_table(ds) if table is None else table
    wb = Workbook()
    wb.remove(wb.active)
    summary_sheet(wb, ds, table)
    for year in dict.fromkeys(table["financial_year"]):
        year_sheet(wb, ds, table, year)
    if scenarios is not None:
        scenarios_sheet(wb, ds, scenarios)
    drivers_sheet(wb, ds)
    for writer in extra:
        writer(wb, ds)
    assumptions_sheet(wb, ds)
    monthly_sheet(wb, ds)
    headlines_sheet(wb, ds)
    about_sheet(wb, ds)
    if iterations:
        iterations_sheet(wb, ds)
    return wb


def write_xlsx(
    ds: xr.Dataset,
    path: Path,
    scenarios: xr.Dataset | None = None,
    iterations: bool = False,
    extra: Sequence[SheetWriter] = (),
    table: pd.DataFrame | None = None,
) -> None:
    """Write ``summary.xlsx`` (see :func:`build_summary_workbook`) at ``path``."""
    build_summary_workbook(ds, scenarios, iterations, extra, table).save(path)


def monthly_percentiles(ds: xr.Dataset) -> pd.DataFrame:
    """Monthly and cumulative (within the year) net spend percentiles by service, GBP.

    One row per service and month, with the month's budget (the year's budget
    spread by days) and the cumulative budget profile.
    """
    months = pd.DatetimeIndex(ds["month"].values)
    fy = ds["month_financial_year"].values.astype(str)
    days = ds["days_in_month"].values.astype(float)
    actual = (
        ds["month_is_actual"].values.astype(bool)
        if "month_is_actual" in ds.coords
        else np.zeros(len(months), bool)
    )
    frames = []
    for g, key in enumerate(ds["service"].values.astype(str)):
        # One service at a time, so a lazily opened (streamed) run is read in slices.
        spend = ds["spend"].isel(service=g).transpose("draw", "month").values
        cum = np.empty_like(spend)
        budget = np.empty(len(months))
        cum_budget = np.empty(len(months))
        for year in dict.fromkeys(fy):
            sel = fy == year
            cum[:, sel] = np.cumsum(spend[:, sel], axis=1)
            budget[sel] = float(ds["budget"].isel(service=g).sel(financial_year=year))
            budget[sel] *= days[sel] / days[sel].sum()
            cum_budget[sel] = np.cumsum(budget[sel])
        # On sorted draws: the same quantiles, bit for bit, in half the time (selecting five
        # order statistics per month from unsorted draws cost more than one sort). Sorted in
        # place where the array is ours, and no further copy for the quantiles, so memory peaks
        # no higher than before. `spend` may be a view of the results: a sorted copy of it.
        cum.sort(axis=0)
        q_month = np.quantile(np.sort(spend, axis=0), PERCENTILES, axis=0, overwrite_input=True)
        q_cum = np.quantile(cum, PERCENTILES, axis=0, overwrite_input=True)
        data = {
            "service": key,
            "service_label": charts.service_label(ds, key),
            "financial_year": fy,
            "month": months.date,
            "actual": actual,
            "budget_gbp": budget,
            "spend_mean_gbp": spend.mean(axis=0),
        }
        data |= {f"spend_p{round(q * 100)}_gbp": q_month[i] for i, q in enumerate(PERCENTILES)}
        data["cumulative_budget_gbp"] = cum_budget
        data |= {f"cumulative_p{round(q * 100)}_gbp": q_cum[i] for i, q in enumerate(PERCENTILES)}
        frames.append(pd.DataFrame(data))
    return pd.concat(frames, ignore_index=True)
