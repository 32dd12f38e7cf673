"""``summary.xlsx``: the summary table, monthly percentiles, headlines and run details.

For finance teams who work in Excel; openpyxl is imported only when the workbook
is written.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from simulator.present import charts
from simulator.present.charts import RunInfo
from simulator.present.report.words import headlines
from simulator.results.summary import summary_table

PERCENTILES = (0.1, 0.25, 0.5, 0.75, 0.9)


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
        q_month = np.quantile(spend, PERCENTILES, axis=0)
        q_cum = np.quantile(cum, PERCENTILES, axis=0)
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


def write_xlsx(ds: xr.Dataset, path: Path) -> None:
    """Write ``summary.xlsx``: summary table, monthly percentiles, headlines and run details."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    run = RunInfo.from_dataset(ds)
    wb = Workbook()
    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="DCE6F1")

    def sheet(ws, frame: pd.DataFrame, formats: dict[str, str]) -> None:
        ws.append(list(frame.columns))
        for cell in ws[1]:
            cell.font, cell.fill = bold, fill
            cell.alignment = Alignment(wrap_text=True, vertical="top")
        for row in frame.itertuples(index=False):
            ws.append([v.item() if isinstance(v, np.generic) else v for v in row])
            for cell in ws[ws.max_row]:
                if cell.data_type == "f":  # text someone typed, never a formula
                    cell.data_type = "s"
        for j, col in enumerate(frame.columns, start=1):
            letter = get_column_letter(j)
            ws.column_dimensions[letter].width = max(12, min(40, len(col) + 2))
            fmt = next((f for suffix, f in formats.items() if col.endswith(suffix)), None)
            if fmt:
                for (cell,) in ws.iter_rows(min_row=2, min_col=j, max_col=j):
                    cell.number_format = fmt
        ws.freeze_panes = "B2"
        ws.auto_filter.ref = ws.dimensions

    money = "#,##0;[Red]-#,##0"
    ws = wb.active
    ws.title = "Summary"
    sheet(ws, summary_table(ds), {"_gbp": money, "p_overspend": "0.0%", "p_overspend_se": "0.0%"})
    sheet(
        wb.create_sheet("Monthly percentiles"),
        monthly_percentiles(ds),
        {"_gbp": money, "month": "mmm yyyy"},
    )
    sheet(
        wb.create_sheet("Headlines"),
        pd.DataFrame(
            [
                {"financial_year": h.financial_year, "service": h.label, "headline": h.text}
                for h in headlines(ds)
            ]
        ),
        {},
    )
    wb["Headlines"].column_dimensions["C"].width = 120
    about = wb.create_sheet("About")
    for row in [
        ("Council", run.council),
        ("Simulated outcomes (draws)", run.draws),
        ("Seed", run.seed),
        ("Run", run.created),
        ("overspend version", run.version),
        ("Money", "GBP, cash terms; overspend = net outturn minus budget (negative: underspend)"),
        ("Probabilities", "fractions; *_se columns are Monte Carlo standard errors"),
        ("Percentiles", "p10 ... p90: 10th to 90th percentiles across the simulated outcomes"),
        (
            "Monthly percentiles",
            "budget_gbp is the year's budget spread over months by days; "
            "actual = TRUE for months fixed at actual spend",
        ),
    ]:
        about.append(list(row))
    about.column_dimensions["A"].width = 28
    about.column_dimensions["B"].width = 90
    wb.save(path)
