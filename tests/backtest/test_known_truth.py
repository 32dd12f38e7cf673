"""Known truth: on records simulated from known parameters, the backtest's 80% ranges hold
the one-year-ahead caseload and placement-days 80% of the time, and the PIT is flat.

Each history is a packages extract simulated by the project's generator
(:func:`simulator.calibrate.synthetic.simulate_records`) from one config of four
independent services (lognormal, gamma and Weibull lengths, flat Poisson arrivals),
complete from 1 April 2017 to 31 March 2021. The backtest forecasts 2020/21 from the
records known on 31 March 2020 (three years of them) and scores it against the
history's own 2020/21.

Sizing: 150 histories x 1 origin x 4 services = 600 independent outcomes per
quantity (one origin per history, so no two outcomes share a fit). About 0.95 s of
CPU a history, 2.5 minutes in all.

What is asserted, over all 600 fits. The share inside the 80% range has binomial
standard error sqrt(0.8 x 0.2 / 600) = 1.63 points; the test allows 2.45 of them,
4.0 points, which is the issue's band of 76% to 84% (a right forecast fails it with
chance 1.4%). The PIT histogram (10 bins, 60 expected in each) must pass a
chi-square test of flatness at the 0.1% level. Calibrate's 5% test of a trend (still
reported, in words) must find one in 5% of these flat histories, within 3 binomial
standard errors.

Why all fits now hold: calibrate writes the arrivals growth averaged over the flat
and trended models by their Akaike weights, with the spread between them in its SE
(docs/calibrate.md). When it kept the trend a 5% test found, as if known, the ~5% of
fits with a spurious trend held the outcome in only 26% to 42% of their 80% ranges,
and all 600 in 74.7% (caseload) and 79.0% (placement-days). Measured on these 600
outcomes with averaging (31 fits find a spurious trend; the rest do not):

======================  ========  ==============  ==============
80% ranges held         all 600   569 no trend    31 trend
======================  ========  ==============  ==============
caseload 12 months on   79.2%     81.2%           41.9%
new placements          83.8%     86.1%           41.9%
placement-days          83.2%     84.2%           64.5%
======================  ========  ==============  ==============

PIT flatness over all 600: chi-square p = 0.97 (caseload), 0.61 (placement-days).
"""

from __future__ import annotations

import math
from datetime import date

import numpy as np
import pytest

from simulator.backtest.forecast import Settings, forecast_origin
from simulator.backtest.run import Inputs, measure
from simulator.backtest.scores import flatness_pvalue, inside, pit, pit_histogram
from simulator.calibrate.records import to_day
from simulator.calibrate.synthetic import simulate_records
from simulator.config.load import config_from_dict

HISTORIES = 150
DRAWS = 400
LEVEL = 0.8
#: Binomial standard errors allowed: 2.45 x 1.63 points = 4.0 points at 600 outcomes,
#: the issue's 76% to 84%.
TOLERANCE_SE = 2.45
P_FLAT = 1e-3
#: The level of calibrate's trend test: the share of flat histories in which it finds a trend.
TREND_LEVEL = 0.05


def _service(per_year: float, length: dict, cost: float) -> dict:
    return {
        "budget_gbp": 0,
        "arrivals": {"per_year": per_year},
        "length": length,
        "unit_cost": {"mean_gbp_per_week": cost, "cv": 0.25},
    }


TRUTH = {
    "council": {"name": "Known Truth"},
    "horizon": {"start": "2020/21", "years": 1},
    "services": {
        "fostering": _service(120, {"dist": "lognormal", "median_weeks": 30, "sigma": 1.0}, 800),
        "homes": _service(60, {"dist": "gamma", "mean_weeks": 40, "shape": 1.5}, 5000),
        "short_breaks": _service(200, {"dist": "weibull", "mean_weeks": 20, "shape": 0.9}, 300),
        "supported": _service(90, {"dist": "lognormal", "median_weeks": 52, "sigma": 0.8}, 1500),
    },
}


def _history_pits(truth, seed: int, folder) -> list[tuple[bool, float, float]]:
    """(trend found, caseload PIT, placement-days PIT) of each service of one history."""
    path = folder / f"history_{seed}.csv"
    simulate_records(truth, "2017-04-01", "2021-03-31", seed=seed).to_csv(path, index=False)
    inputs = Inputs(packages=(path,))
    settings = Settings(draws=DRAWS, seed=seed)
    fc = forecast_origin(inputs.load, to_day(date(2020, 4, 1)), settings)
    result = measure(inputs.load(), fc, settings)
    rng = np.random.default_rng([seed, 7])
    out = []
    for i, (key, svc) in enumerate(zip(fc.services, fc.calibration.services, strict=True)):
        actual = result.actual[key]
        case = pit(fc.caseload[:, i, -1], np.array(actual.caseload[-1]), rng)
        days = pit(fc.placement_days[:, i], np.array(actual.year["placement_days"]), rng)
        out.append((svc.arrivals.trend, float(case), float(days)))
    return out


@pytest.mark.slow
def test_ranges_cover_the_known_truth_as_often_as_they_say(tmp_path):
    truth = config_from_dict(TRUTH)
    rows = np.array([p for seed in range(HISTORIES) for p in _history_pits(truth, seed, tmp_path)])
    n = HISTORIES * len(TRUTH["services"])
    assert len(rows) == n
    share = float(np.mean(rows[:, 0] == 1))
    assert abs(share - TREND_LEVEL) <= 3 * math.sqrt(TREND_LEVEL * (1 - TREND_LEVEL) / n)
    allowed = TOLERANCE_SE * math.sqrt(LEVEL * (1 - LEVEL) / n)
    for j, what in ((1, "caseload 12 months ahead"), (2, "placement-days")):
        coverage = float(np.mean(inside(rows[:, j], LEVEL)))
        assert abs(coverage - LEVEL) <= allowed, (what, coverage, allowed)
        histogram = pit_histogram(rows[:, j])
        assert flatness_pvalue(histogram) > P_FLAT, (what, histogram)
