"""The page's figures and their standard errors, against closed forms and replications."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from simulator.results.reserve import reserve_dataset
from simulator.serve.figures import line_drivers, measures, quantile_influence


def _pair(rng, n, rho, shift=0.0):
    """Correlated normal overspends (GBP) of a base case and a what-if."""
    z = rng.standard_normal((2, n))
    base = 1e6 * z[0]
    other = 1e6 * (rho * z[0] + np.sqrt(1 - rho**2) * z[1]) + shift
    return base, other


def test_a_what_if_that_moves_every_draw_alike_moves_every_figure_exactly():
    rng = np.random.default_rng(1)
    base = rng.normal(2e5, 1e6, 4_000)
    ms = measures(base, base + 5e5)
    chance, median, bad, reserve, mean = ms
    for m in (median, bad, mean):
        assert m.diff == pytest.approx(5e5)
        assert m.diff_se == pytest.approx(0.0, abs=1e-6)
    assert reserve.diff == pytest.approx(5e5)
    assert chance.diff == pytest.approx(np.mean(base + 5e5 > 0) - np.mean(base > 0))


def test_figures_agree_with_the_reserve_answers():
    """The page's percentiles and reserve are those of simulator.results.reserve."""
    import xarray as xr

    rng = np.random.default_rng(2)
    over = rng.normal(1e6, 2e6, 3_000)
    ds = xr.Dataset(
        {"overspend": (("draw", "service", "financial_year"), over[:, None, None])},
        coords={"service": ["total"], "financial_year": ["2024/25"]},
    )
    answers = reserve_dataset(ds).sel(service="total", financial_year="2024/25")
    ms = measures(over, over)
    reserve = ms[3]
    assert reserve.base == float(answers["reserve"].sel(confidence=0.9))
    assert reserve.base_se == float(answers["reserve_se"].sel(confidence=0.9))
    assert ms[0].base == float(answers["p_overspend"])


def test_percentile_influence_matches_the_normal_closed_form():
    """For a normal, the quantile's standard error is sqrt(t(1-t)/n) / pdf(z_t) * sd."""
    rng = np.random.default_rng(3)
    n, tau = 20_000, 0.9
    x = rng.standard_normal(n)
    _, se, influence = quantile_influence(x, tau)
    exact = np.sqrt(tau * (1 - tau) / n) / stats.norm.pdf(stats.norm.ppf(tau))
    # The order-statistic standard error is itself estimated: its relative error is
    # about 1 / sqrt(2 * 1.96 * sqrt(n tau (1 - tau))) (the spacing of ~2*1.96*sqrt(n t(1-t))
    # order statistics); allow four of those.
    k = 2 * 1.96 * np.sqrt(n * tau * (1 - tau))
    assert se == pytest.approx(exact, rel=4 / np.sqrt(k))
    assert np.std(influence) / np.sqrt(n) == pytest.approx(se, rel=1e-3)


@pytest.mark.parametrize("rho", [0.0, 0.9])
def test_paired_percentile_standard_error_matches_replications(rho):
    """The paired s.e. of a change in a percentile is the spread of that change over seeds."""
    rng = np.random.default_rng(4)
    reps, n = 300, 4_000
    diffs, ses = np.empty(reps), np.empty(reps)
    for r in range(reps):
        base, other = _pair(rng, n, rho, shift=3e5)
        bad = measures(base, other)[2]
        diffs[r], ses[r] = bad.diff, bad.diff_se
    spread = np.std(diffs, ddof=1)
    # Closed form for two standard normals (scaled) correlated rho at the same quantile:
    # Var(q_b - q_a) = 2 (tau(1-tau) - (P(both <= q) - tau^2)) / (n f(q)^2).
    tau, q = 0.9, stats.norm.ppf(0.9)
    both = stats.multivariate_normal([0, 0], [[1, rho], [rho, 1]]).cdf([q, q])
    exact = 1e6 * np.sqrt(2 * (tau * (1 - tau) - (both - tau**2)) / n) / stats.norm.pdf(q)
    # Monte Carlo errors: of a standard deviation from `reps` replications, 1/sqrt(2(reps-1));
    # of the mean of the estimated s.e., its own spread over sqrt(reps). Four of each.
    assert spread == pytest.approx(exact, rel=4 / np.sqrt(2 * (reps - 1)))
    mean_se = ses.mean()
    tol = 4 * ses.std(ddof=1) / np.sqrt(reps) + 4 * exact / np.sqrt(2 * 1.96 * np.sqrt(n * 0.09))
    assert abs(mean_se - exact) < tol


def test_line_drivers_shares_add_to_one(config):
    from simulator.model.equations import build_plan
    from simulator.serve.whatif import case_chunk

    plan = build_plan(config)
    out = case_chunk(plan, plan, 3, 0, 500)
    total = [g.key for g in plan.groups].index("total")
    found = line_drivers(plan, out.overspend, total, 0)
    assert len(found) == 3
    shares = [d.share for d in found]
    assert shares == sorted(shares, reverse=True)
    assert sum(shares) == pytest.approx(1.0)  # three lines: all of them
    assert {d.label for d in found} == {"Children's homes", "SEND transport", "Home care"}
