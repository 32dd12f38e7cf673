"""Writing a backtest: ``backtest.nc``, its scores as CSV, its sentences and its charts.

Each file is written atomically and recorded in its folder's marker
(:func:`simulator.files.write_file`), so ``--out`` may be a run's results folder:
the backtest then sits beside ``simulation.nc`` (as ``sensitivity.nc`` does) and
``overspend report`` includes its track record. An earlier backtest's files are
replaced only with ``--force``; files the tool did not write never are.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import xarray as xr

from simulator.files import check_file, write_dataset, write_file

from .dataset import TARGETS
from .words import backtest_sentences

DATASET = "backtest.nc"
SCORES = "backtest_scores.csv"
SENTENCES = "backtest.txt"
CHART_FORMATS = ("png", "svg")
CHART_NAMES = ("backtest_track_record", "backtest_calibration")


def output_files(out: Path, charts: bool = True) -> list[Path]:
    """Every file a backtest writes into ``out``."""
    names = [DATASET, SCORES, SENTENCES]
    if charts:
        names += [f"{c}.{fmt}" for c in CHART_NAMES for fmt in CHART_FORMATS]
    return [out / n for n in names]


def check_output(out: Path, force: bool, charts: bool = True) -> None:
    """Refuse, before any work, to overwrite what must not be (see :func:`check_file`)."""
    for path in output_files(out, charts):
        check_file(path, force)


def scores_table(ds: xr.Dataset) -> pd.DataFrame:
    """Coverage and CRPS by forecaster, service, target and level, for spreadsheets."""
    rows = []
    for f in ds["forecaster"].values:
        for s, label in zip(ds["service"].values, ds["service_label"].values, strict=True):
            for t in TARGETS:
                pick = {"forecaster": f, "service": s, "target": t}
                for level in ds["level"].values:
                    at = {**pick, "level": level}
                    rows.append(
                        {
                            "forecaster": str(f),
                            "service": str(s),
                            "service_label": str(label),
                            "target": t,
                            "units": str(ds["target_units"].sel(target=t).values),
                            "level": float(level),
                            "coverage": float(ds["coverage"].sel(at)),
                            "coverage_low_95": float(ds["coverage_low"].sel(at)),
                            "coverage_high_95": float(ds["coverage_high"].sel(at)),
                            "outcomes": int(ds["outcomes_scored"].sel(service=s, target=t)),
                            "mean_crps": float(ds["crps_mean"].sel(pick)),
                        }
                    )
    return pd.DataFrame(rows)


def write_backtest(
    ds: xr.Dataset, out: Path, force: bool = False, charts: bool = True
) -> list[Path]:
    """Write the backtest's files into ``out`` (made if missing); returns their paths."""
    out.mkdir(parents=True, exist_ok=True)
    written = [write_dataset(ds, out / DATASET, force=force)]
    table = scores_table(ds)
    written.append(
        write_file(out / SCORES, lambda tmp: table.to_csv(tmp, index=False), force=force)
    )
    text = "\n".join(backtest_sentences(ds)) + "\n"
    written.append(
        write_file(out / SENTENCES, lambda tmp: tmp.write_text(text, encoding="utf-8"), force=force)
    )
    if charts:
        written += _write_charts(ds, out, force)
    return written


def _write_charts(ds: xr.Dataset, out: Path, force: bool) -> list[Path]:
    from simulator.present.charts.backtest import backtest_charts
    from simulator.present.charts.files import _metadata
    from simulator.present.charts.style import DPI, chart_style

    written = []
    with chart_style():
        for chart in backtest_charts(ds):
            fig = chart.figure()
            for fmt in CHART_FORMATS:

                def save(tmp: Path, fmt: str = fmt, fig=fig) -> None:
                    fig.savefig(tmp, format=fmt, dpi=DPI, metadata=_metadata(f".{fmt}"))

                written.append(write_file(out / f"{chart.name}.{fmt}", save, force=force))
    return written
