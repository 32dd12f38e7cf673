"""Known truth: on records simulated from known parameters, the backtest's 80% ranges hold
the one-year-ahead caseload and placement-days 80% of the time, and the PIT is flat,
whether the truth is flat or trending.

Each history is a packages extract simulated by the project's generator
(:func:`simulator.calibrate.synthetic.simulate_records`) from one config of four
independent services (lognormal, gamma and Weibull lengths, Poisson arrivals),
complete from 1 April 2017 to 31 March 2021. The backtest forecasts 2020/21 from the
records known on 31 March 2020 (three years of them) and scores it against the
history's own 2020/21. Two truths: every service flat, and every service's arrivals
growing 8% a year.

Sizing: for each truth, 150 histories x 1 origin x 4 services = 600 independent
outcomes per quantity (one origin per history, so no two outcomes share a fit). About
0.75 s of CPU a history, so about 4 minutes of CPU for both truths (3 min 15 s wall
measured).

What is asserted, for each truth over all 600 fits. The share inside the 80% range has
binomial standard error sqrt(0.8 x 0.2 / 600) = 1.63 points; the test allows 2.45 of
them, 4.0 points, which is the issue's band of 76% to 84% (a right forecast fails one
check with chance 1.4%). The PIT histogram (10 bins, 60 expected in each) must pass a
chi-square test of flatness at the 0.1% level. Calibrate's 5% test of a trend (still
reported, in words) must find one in 5% of the flat histories, within 3 binomial
standard errors.

Why both hold: calibrate writes the trend fitted to the records with its
cluster-robust SE, shrunk only slightly by a wide prior on the growth
(docs/calibrate.md), so a chance drift in flat records is carried as uncertainty and a
real trend is written at nearly its size. Measured with the same harness (docs/backtest.md
has the table), the rules tried before each failed one truth: keeping a trend only when
a 5% test found one held 74.7% of flat caseloads; averaging flat and trend by Akaike
weights wrote +5.4% for +8% (caseload 77.5%, placement-days 77.8%, PIT histograms with
chi-square p of 1e-9 and 3e-5, so this test failed). Now: flat 78.7% and 81.2% (PIT p =
0.89, 0.55; a spurious trend found in 5.2%), +8% a year 79.5% and 81.5% (p = 0.15, 0.88).
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
#: Growth of every service's arrivals in the trending truth, a year: a strong trend for a
#: council (demand nationally grows 1% to 3% a year), about 1 to 1.5 fitted SEs over three years.
GROWTH = 0.08
#: First seed of the trending truth's histories (apart from the flat truth's 0 to 149).
TREND_SEED = 1000


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


def _growing(truth: dict, growth: float) -> dict:
    """``truth`` with every service's arrivals growing by ``growth`` a year."""
    services = {
        key: svc | {"arrivals": svc["arrivals"] | {"growth": growth}}
        for key, svc in truth["services"].items()
    }
    return truth | {"services": services}


def _assert_calibrated(rows: np.ndarray) -> None:
    """80% ranges hold the outcome 76% to 84% of the time, and the PIT is flat."""
    n = len(rows)
    allowed = TOLERANCE_SE * math.sqrt(LEVEL * (1 - LEVEL) / n)
    for j, what in ((1, "caseload 12 months ahead"), (2, "placement-days")):
        coverage = float(np.mean(inside(rows[:, j], LEVEL)))
        assert abs(coverage - LEVEL) <= allowed, (what, coverage, allowed)
        histogram = pit_histogram(rows[:, j])
        assert flatness_pvalue(histogram) > P_FLAT, (what, histogram)


@pytest.mark.slow
def test_ranges_cover_a_flat_truth_as_often_as_they_say(tmp_path):
    truth = config_from_dict(TRUTH)
    rows = np.array([p for seed in range(HISTORIES) for p in _history_pits(truth, seed, tmp_path)])
    n = HISTORIES * len(TRUTH["services"])
    assert len(rows) == n
    share = float(np.mean(rows[:, 0] == 1))
    assert abs(share - TREND_LEVEL) <= 3 * math.sqrt(TREND_LEVEL * (1 - TREND_LEVEL) / n)
    _assert_calibrated(rows)


@pytest.mark.slow
def test_ranges_cover_a_trending_truth_as_often_as_they_say(tmp_path):
    truth = config_from_dict(_growing(TRUTH, GROWTH))
    seeds = range(TREND_SEED, TREND_SEED + HISTORIES)
    rows = np.array([p for seed in seeds for p in _history_pits(truth, seed, tmp_path)])
    assert len(rows) == HISTORIES * len(TRUTH["services"])
    _assert_calibrated(rows)
