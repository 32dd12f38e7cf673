"""The backtest in sentences, for the report and the console.

Numbers are written by :mod:`simulator.present.numbers` (the one home of number
formatting); every sentence is built from the Dataset of :mod:`.dataset`.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from simulator.present.numbers import count, money_text, pct_whole

from .dataset import TOTAL
from .scores import coverage_interval

#: The interval level the headline sentences speak of.
HEADLINE_LEVEL = 0.8
_NUMBER_WORDS = ("no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")


def times(k: int) -> str:
    """``'once'``, ``'twice'``, ``'4 times'``."""
    return {0: "no times", 1: "once", 2: "twice"}.get(k, f"{k} times")


def _number(n: int) -> str:
    return _NUMBER_WORDS[n] if 0 <= n < len(_NUMBER_WORDS) else f"{n:,}"


def amount(value: float, units: str) -> str:
    """A target's value in its own units: £m for money, whole numbers for counts and days."""
    if not np.isfinite(value):
        return "n/a"
    if units == "GBP":
        return money_text(value)
    return f"{count(value)} {'placement-days' if units == 'days' else 'placements'}"


def _hits(ds: xr.Dataset, target: str, level: float, service: str = TOTAL) -> tuple[int, int]:
    inside = ds["inside"].sel(forecaster="simulation", service=service, target=target, level=level)
    values = inside.values[np.isfinite(inside.values)]
    return int(values.sum()), int(values.size)


def track_record_sentence(
    ds: xr.Dataset, target: str = "cost", level: float = HEADLINE_LEVEL
) -> str:
    """E.g. "Over the last 5 years our 80% ranges contained the outcome 4 times out of 5."."""
    k, n = _hits(ds, target, level)
    what = str(ds["target_label"].sel(target=target).values)
    if n == 0:
        return f"No year could be scored for the {what}."
    years = "year" if n == 1 else f"{n} years"
    return (
        f"Over the last {years} our {pct_whole(level)} ranges for the total {what} contained "
        f"the outcome {times(k)} out of {n}."
    )


def uncertainty_sentence(
    ds: xr.Dataset, target: str = "cost", level: float = HEADLINE_LEVEL
) -> str:
    """How little a handful of years proves: the exact 95% interval of the coverage."""
    k, n = _hits(ds, target, level)
    if n == 0:
        return ""
    low, high = coverage_interval(k, n)
    return (
        f"{_number(k).capitalize()} in {n} is consistent with ranges that hold the outcome "
        f"anywhere from {pct_whole(low)} to {pct_whole(high)} of the time (exact 95% interval): "
        f"with {_number(n)} year{'s' if n != 1 else ''} of history a backtest can show a "
        "forecast to be badly wrong, not that it is exactly right."
    )


def pooled_sentence(ds: xr.Dataset, target: str = "cost", level: float = HEADLINE_LEVEL) -> str:
    """Every service and origin pooled: more outcomes, a tighter estimate of coverage."""
    n = int(ds["outcomes_scored_all"].sel(target=target))
    if n == 0:
        return ""
    cov = float(ds["coverage_all"].sel(forecaster="simulation", target=target, level=level))
    low = float(ds["coverage_all_low"].sel(forecaster="simulation", target=target, level=level))
    high = float(ds["coverage_all_high"].sel(forecaster="simulation", target=target, level=level))
    services = ds.sizes["service"] - 1
    what = str(ds["target_label"].sel(target=target).values)
    return (
        f"Taking each of the {services} services separately ({n} forecasts of the {what}), "
        f"the {pct_whole(level)} ranges held the outcome {pct_whole(cov)} of the time "
        f"(95% interval {pct_whole(low)} to {pct_whole(high)})."
    )


def naive_sentence(ds: xr.Dataset, target: str = "cost") -> str:
    """Whether the simulation beat a spreadsheet's two forecasts, by mean CRPS of the total."""
    crps = ds["crps_mean"].sel(service=TOTAL, target=target)
    units = str(ds["target_units"].sel(target=target).values)
    sim, flat, trend = (float(crps.sel(forecaster=f)) for f in ("simulation", "flat", "trend"))
    if not np.isfinite(sim):
        return ""
    rivals = [(v, str(ds["forecaster_label"].sel(forecaster=m).values)) for v, m in
              ((flat, "flat"), (trend, "trend")) if np.isfinite(v)]  # fmt: skip
    what = str(ds["target_label"].sel(target=target).values)
    text = (
        f"Scored by CRPS (how far the forecast lay from the outcome, on average, counting its "
        f"whole range; lower is better), the simulation's forecasts of the total {what} were "
        f"{amount(sim, units)} off"
    )
    if not rivals:
        return text + "."
    against = " and ".join(f"{amount(v, units)} for {label}" for v, label in rivals)
    beaten = sum(sim < v for v, _ in rivals)
    verdict = {
        len(rivals): "better than every naive forecast",
        0: "no better than the naive forecasts",
    }.get(beaten, "better than one of the naive forecasts")
    return f"{text}, against {against}: {verdict}."


def backtest_sentences(ds: xr.Dataset) -> list[str]:
    """The backtest's key sentences, in the order the report gives them."""
    out = [track_record_sentence(ds, "cost"), track_record_sentence(ds, "caseload")]
    out += [uncertainty_sentence(ds, "cost"), naive_sentence(ds, "cost")]
    out += [naive_sentence(ds, "caseload"), pooled_sentence(ds, "cost")]
    return [s for s in out if s]
