"""The summary table of a run: budget, outturn and overspend statistics per row and year.

The table ``overspend run`` prints and writes to ``summary.csv``, the report
and the workbook show: one function for runs in memory and streamed stores,
and one writer of ``summary.csv`` (pounds to the penny, written plainly, and
text that a spreadsheet would run as a formula neutralised).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

#: Memory the summary may use for one batch of result rows, bytes.
SUMMARY_BATCH_BYTES = 256 * 1024**2


def quantile_se(values: np.ndarray, q: float) -> np.ndarray:
    """Standard error of the q-quantile along axis 0, from order statistics.

    The q-quantile's 95% interval lies between the order statistics at ranks
    n q -/+ 1.96 sqrt(n q (1 - q)) (a distribution-free binomial interval);
    its half-width divided by 1.96 is the standard error.
    """
    n = values.shape[0]
    half = 1.96 * np.sqrt(n * q * (1 - q))
    lo = int(np.clip(np.floor(n * q - half), 0, n - 1))
    hi = int(np.clip(np.ceil(n * q + half), 0, n - 1))
    ordered = np.partition(values, [lo, hi], axis=0)
    return (ordered[hi] - ordered[lo]) / (2 * 1.96)


def summary_table(ds: xr.Dataset, batch_bytes: int = SUMMARY_BATCH_BYTES) -> pd.DataFrame:
    """One row per service (and department and total) per financial year.

    Money in GBP; probabilities as fractions; ``*_se`` columns are Monte
    Carlo standard errors. Reads only ``overspend``, ``outturn`` and
    ``budget``, a few result rows at a time, so it works the same on a run in
    memory and on a lazily opened store of any size.

    Parameters
    ----------
    ds : xarray.Dataset
        A results Dataset, in memory or from :func:`simulator.runs.streamed.open_results`.
    batch_bytes : int
        Memory for one batch of rows (default 256 MiB).

    Returns
    -------
    pandas.DataFrame
    """
    draws, years = ds.sizes["draw"], ds.sizes["financial_year"]
    per_row = 2 * draws * years * 8  # overspend and outturn, float64
    batch = max(1, batch_bytes // per_row)
    needed = ds[["overspend", "outturn", "budget"]]
    parts = [
        _rows_table(needed.isel(service=slice(g, g + batch)).load())
        for g in range(0, ds.sizes["service"], batch)
    ]
    return pd.concat(parts, ignore_index=True)


def _rows_table(ds: xr.Dataset) -> pd.DataFrame:
    """The summary rows of the result rows in ``ds`` (all loaded)."""
    over = ds["overspend"].values  # (D, G, Y)
    outturn = ds["outturn"].values
    n = over.shape[0]
    rows = []
    for g, key in enumerate(ds["service"].values):
        for y, year in enumerate(ds["financial_year"].values):
            o = over[:, g, y]
            p = float(np.mean(o > 0))
            q10, q50, q90 = np.quantile(o, [0.1, 0.5, 0.9])
            rows.append({
                "service": str(key),
                "service_label": str(ds["service_label"].values[g]),
                "service_type": str(ds["service_type"].values[g]),
                "financial_year": str(year),
                "budget_gbp": float(ds["budget"].values[g, y]),
                "median_outturn_gbp": float(np.median(outturn[:, g, y])),
                "mean_outturn_gbp": float(np.mean(outturn[:, g, y])),
                "p_overspend": p,
                "p_overspend_se": float(np.sqrt(p * (1 - p) / n)),
                "mean_overspend_gbp": float(np.mean(o)),
                "mean_overspend_se_gbp": float(np.std(o, ddof=1) / np.sqrt(n)) if n > 1 else float("nan"),
                "p10_overspend_gbp": float(q10),
                "p10_overspend_se_gbp": float(quantile_se(o, 0.1)),
                "p50_overspend_gbp": float(q50),
                "p50_overspend_se_gbp": float(quantile_se(o, 0.5)),
                "p90_overspend_gbp": float(q90),
                "p90_overspend_se_gbp": float(quantile_se(o, 0.9)),
            })  # fmt: skip
    return pd.DataFrame(rows)


#: How text that a spreadsheet would take for a formula starts (the usual CSV-injection rule).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_text(text: str) -> str:
    """Text for a CSV cell that no spreadsheet runs and no reader splits.

    A leading ``'`` where it would start a formula; line breaks inside it (which
    some readers take for the end of a row) become spaces.
    """
    text = "'" + text if text.startswith(FORMULA_STARTS) else text
    return text.replace("\r\n", " ").replace("\r", " ").replace("\n", " ")


def write_summary_csv(table: pd.DataFrame, path) -> None:
    """Write the summary table as ``summary.csv``.

    Money (``*_gbp`` columns) to the penny in plain digits (never ``4.51235e+07``);
    probabilities in full; labels and names as text that cannot run as a formula.
    """
    out = table.copy()
    for column in out.columns:
        if column.endswith("_gbp"):
            out[column] = [("" if not np.isfinite(v) else f"{v:.2f}") for v in out[column]]
        elif pd.api.types.is_string_dtype(out[column]) or out[column].dtype == object:
            out[column] = [csv_text(str(v)) for v in out[column]]
    out.to_csv(path, index=False)
