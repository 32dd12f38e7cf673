"""The report's "track record" section, when a backtest sits beside the run's results.

``overspend backtest --out RESULTS_DIR`` writes ``backtest.nc`` into a run's
results folder; :func:`track_record_blocks` finds it there and returns the
report's blocks (sentences, a table of each year's forecast and outcome, the
track record and calibration charts, and what a backtest cannot show).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import xarray as xr

from simulator.errors import UserError
from simulator.present.numbers import money_text, pct_whole
from simulator.present.report.blocks import (
    Block,
    Bullets,
    ChartBlock,
    Heading,
    PageBreak,
    Paragraph,
    Table,
)

from .dataset import TOTAL
from .output import DATASET
from .words import backtest_sentences

#: Variables a file must have to be read as a backtest.
REQUIRED = ("forecast", "actual", "naive_forecast", "inside", "coverage_all", "crps_mean")

LIMITS = (
    "What a backtest cannot show. The SSDA903 return records placements, not their cost: "
    "for children's services the cost scored here is each year's placement-days valued at "
    "the calibrated unit costs, so it tests demand and placement lengths, not prices (a "
    "package list with weekly costs is scored at its actual costs). One council has only a "
    "few years of records, so each coverage figure rests on a handful of outcomes: its exact "
    "95% interval, given with it, is wide, and a backtest can show that the ranges are badly "
    "wrong far more surely than that they are right. Each year is forecast from what the "
    "records showed on the day before it began, with the same method as overspend "
    "calibrate; the budget, inflation, savings and income of the real forecast are not part "
    "of it."
)


def find_backtest(ds: xr.Dataset) -> Path | None:
    """``backtest.nc`` beside the file ``ds`` was read from, if there is one."""
    source = ds.encoding.get("source")
    if not source:
        return None
    path = Path(source).parent / DATASET
    return path if path.is_file() else None


def load_backtest(path: Path) -> xr.Dataset:
    """Read a backtest file, or say in one line why it cannot be used.

    Raises
    ------
    UserError
    """
    try:
        bt = xr.load_dataset(path)
    except (OSError, ValueError) as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise UserError(f"{path} cannot be read as a backtest: {first}") from None
    missing = [name for name in REQUIRED if name not in bt.variables]
    if missing:
        raise UserError(
            f"{path} lacks {', '.join(missing)}: not a file of `overspend backtest` (run it "
            "again, or move the file)"
        )
    return bt


def year_table(bt: xr.Dataset, target: str = "cost") -> Table:
    """Each origin's forecast of the total against the outcome and the naive forecasts (£m)."""
    total = bt.sel(service=TOTAL, target=target)
    draws = total["forecast"].transpose("origin", "draw").values
    low, mid, high = np.nanquantile(draws, [0.1, 0.5, 0.9], axis=1)
    inside = total["inside"].sel(forecaster="simulation", level=0.8).values
    rows = []
    for o, year in enumerate(bt["origin_year"].values):
        flat, trend = (
            float(total["naive_forecast"].sel(naive=n).values[o]) for n in ("flat", "trend")
        )
        rows.append(
            [
                str(year),
                money_text(mid[o]),
                f"{money_text(low[o])} to {money_text(high[o])}",
                money_text(float(total["actual"].values[o])),
                "yes" if inside[o] == 1 else ("no" if inside[o] == 0 else "n/a"),
                money_text(flat),
                money_text(trend),
            ]
        )
    columns = ["Year", "Median forecast", "80% range", "Outcome", "In range",
               "Last year flat", "Last year + trend"]  # fmt: skip
    return Table(columns, rows, "lrrrlrr", widths=[1, 1.2, 1.8, 1, 0.8, 1.1, 1.2])


def track_record_blocks(ds: xr.Dataset) -> list[Block]:
    """The report's track record section for the run ``ds``; none when no backtest is beside it."""
    path = find_backtest(ds)
    if path is None:
        return []
    return backtest_blocks(load_backtest(path))


def backtest_blocks(bt: xr.Dataset) -> list[Block]:
    """The track record section for a backtest Dataset."""
    from simulator.present.charts.backtest import backtest_charts

    sentences = backtest_sentences(bt)
    years = [str(y) for y in bt["origin_year"].values]
    cov = float(bt["coverage_all"].sel(forecaster="simulation", target="cost", level=0.8))
    intro = (
        f"How well would this simulator have forecast {bt.attrs.get('council', 'the council')}'s "
        f"own past years? Each of {', '.join(years)} was forecast from the records as they stood "
        f"the day before it began ({int(bt.attrs.get('draws', 0)):,} simulated outcomes each), "
        "and the forecast compared with what the records show happened, beside two forecasts a "
        "spreadsheet would make: last year's level held flat, and last year's level plus its "
        "trend."
    )
    blocks: list[Block] = [
        PageBreak(),
        Heading("Track record"),
        Paragraph(intro),
    ]
    if sentences:
        blocks.append(Paragraph(sentences[0], emphasis=True))
        blocks.append(Bullets(sentences[1:]))
    blocks += [
        Paragraph("Total cost of each year's placements, £m:"),
        year_table(bt),
        *(ChartBlock(c) for c in backtest_charts(bt)),
        Paragraph(
            f"Pooled over services and years, the 80% ranges of the cost held the outcome "
            f"{pct_whole(cov) if np.isfinite(cov) else 'n/a'} of the time; a well-calibrated "
            "forecast's points lie on the diagonal of the calibration chart, within their bars."
        ),
        Paragraph(LIMITS),
    ]
    return blocks
