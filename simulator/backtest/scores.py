"""Scoring forecasts against outcomes: PIT, interval coverage and CRPS.

- The PIT (probability integral transform) of an outcome is the share of the
  forecast below it. For counts (caseload, new placements) many draws can equal
  the outcome, so the PIT is *randomised* across the tie: F(y-) + V (F(y) - F(y-)),
  V uniform. It is then exactly uniform on [0, 1] when the forecast is right,
  for counts as for money, and its histogram is flat.
- An outcome is inside the central ``level`` interval when its PIT lies
  strictly between (1 - level) / 2 and (1 + level) / 2; a forecast is
  calibrated when that happens a share ``level`` of the time. (An outcome on
  the edge of a range of counts thus counts in proportion to the draws it ties.)
- CRPS (continuous ranked probability score): the mean distance between the
  forecast distribution and the outcome, in the outcome's own units; lower is
  better. For a single number (the naive forecasts) it is the absolute error, so
  the simulation and a spreadsheet's figure are compared like for like. It is
  computed by ``scoringrules`` (the quantile-decomposition estimator, exact for
  the empirical distribution of the draws).

Coverage estimated from n outcomes has the binomial standard error
sqrt(p (1 - p) / n); :func:`coverage_interval` gives the exact (Clopper-Pearson)
95% interval, which for the handful of origins one council has is wide.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

#: Central interval levels scored.
LEVELS = (0.5, 0.8, 0.9)
#: Bins of the PIT histogram.
PIT_BINS = 10


def pit(forecast: np.ndarray, outcome: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Randomised PIT of each outcome under its forecast draws.

    Parameters
    ----------
    forecast : numpy.ndarray
        (..., draw).
    outcome : numpy.ndarray
        (...); NaN where there is no outcome (or no forecast).
    rng : numpy.random.Generator
        For the position within ties (one uniform per outcome, drawn always, so
        the stream does not depend on which outcomes are missing).

    Returns
    -------
    numpy.ndarray
        (...), in [0, 1]; NaN where the outcome or the forecast is missing.
    """
    forecast = np.asarray(forecast, dtype=np.float64)
    y = np.asarray(outcome, dtype=np.float64)[..., None]
    below = (forecast < y).mean(axis=-1)
    at_most = (forecast <= y).mean(axis=-1)
    v = rng.random(below.shape)
    out = below + v * (at_most - below)
    missing = np.isnan(y[..., 0]) | np.isnan(forecast).any(axis=-1)
    return np.where(missing, np.nan, out)


def inside(pit_values: np.ndarray, level: float) -> np.ndarray:
    """1.0 where the outcome is inside the central ``level`` interval, 0.0 outside, NaN if none."""
    # Rounded so that 0.1 is the 80% interval's end, not 0.09999999999999998.
    low, high = round((1.0 - level) / 2.0, 12), round((1.0 + level) / 2.0, 12)
    p = np.asarray(pit_values, dtype=np.float64)
    return np.where(np.isnan(p), np.nan, ((p > low) & (p < high)).astype(np.float64))


def crps(forecast: np.ndarray, outcome: np.ndarray) -> np.ndarray:
    """CRPS of each outcome under its forecast draws (units of the outcome); NaN if missing.

    Parameters
    ----------
    forecast : numpy.ndarray
        (..., draw); a single number is a forecast with one draw.
    outcome : numpy.ndarray
        (...).
    """
    import scoringrules

    forecast = np.asarray(forecast, dtype=np.float64)
    y = np.asarray(outcome, dtype=np.float64)
    missing = np.isnan(y) | np.isnan(forecast).any(axis=-1)
    safe_f = np.where(missing[..., None], 0.0, forecast)
    score = scoringrules.crps_ensemble(np.where(missing, 0.0, y), safe_f, estimator="qd")
    return np.where(missing, np.nan, np.asarray(score, dtype=np.float64))


def coverage_interval(hits: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Exact (Clopper-Pearson) interval for a coverage seen ``hits`` times in ``n``."""
    if n == 0:
        return (np.nan, np.nan)
    ci = stats.binomtest(int(hits), int(n)).proportion_ci(confidence, method="exact")
    return float(ci.low), float(ci.high)


def pit_histogram(pit_values: np.ndarray, bins: int = PIT_BINS) -> np.ndarray:
    """Counts of PIT values in ``bins`` equal bins of [0, 1] (NaN left out)."""
    p = np.asarray(pit_values, dtype=np.float64).ravel()
    p = p[np.isfinite(p)]
    return np.histogram(p, bins=bins, range=(0.0, 1.0))[0].astype(np.float64)


def flatness_pvalue(counts: np.ndarray) -> float:
    """Chi-square test that a PIT histogram is flat: the p-value (NaN with no values)."""
    counts = np.asarray(counts, dtype=np.float64)
    if counts.sum() == 0:
        return np.nan
    return float(stats.chisquare(counts).pvalue)
