"""Parameter distributions: each inverse CDF against scipy.stats, and field checks."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from simulator.config.distributions import Fixed, clip_to, parse_param, support

U = np.array([1e-6, 0.01, 0.1, 0.3, 0.5, 0.7, 0.9, 0.99, 1 - 1e-6])
ANY = support("units")


def _beta_ab(mean, sd):
    nu = mean * (1 - mean) / sd**2 - 1
    return mean * nu, (1 - mean) * nu


CASES = [
    ({"dist": "normal", "mean": 3.0, "sd": 2.0}, stats.norm(3, 2)),
    (
        {"dist": "normal", "mean": 0.0, "sd": 1.0, "low": -0.5, "high": 2.0},
        stats.truncnorm(-0.5, 2.0),
    ),
    (
        {"dist": "lognormal", "mean": 100.0, "sd": 30.0},
        stats.lognorm(s=math.sqrt(math.log1p(0.09)), scale=100 * math.exp(-0.5 * math.log1p(0.09))),
    ),
    ({"dist": "gamma", "mean": 10.0, "sd": 4.0}, stats.gamma(6.25, scale=1.6)),
    ({"dist": "beta", "mean": 0.7, "sd": 0.15}, stats.beta(*_beta_ab(0.7, 0.15))),
    ({"dist": "uniform", "low": 2.0, "high": 5.0}, stats.uniform(2, 3)),
    ({"dist": "triangular", "low": 1.0, "mode": 2.0, "high": 5.0}, stats.triang(0.25, 1, 4)),
    ({"dist": "pert", "low": 0.0, "mode": 0.8, "high": 1.0}, stats.beta(1 + 3.2, 1 + 0.8)),
]


@pytest.mark.parametrize(
    ("raw", "reference"), CASES, ids=[c[0]["dist"] + str(i) for i, c in enumerate(CASES)]
)
def test_ppf_matches_scipy(raw, reference):
    param = parse_param(raw, ANY)
    np.testing.assert_allclose(param.ppf(U), reference.ppf(U), rtol=1e-7, atol=1e-9)


def test_plain_number_is_fixed_and_checked():
    assert parse_param(3, support("weeks", 0, low_open=True)) == Fixed(3.0)
    with pytest.raises(ValueError, match=r"must be > 0 \(weeks\)"):
        parse_param(0, support("weeks", 0, low_open=True))
    with pytest.raises(ValueError, match="must be a number or a distribution"):
        parse_param(True, ANY)


def test_field_bounds_are_checked_for_every_value_a_distribution_can_take():
    fraction = support("fraction", 0, 1)
    parse_param({"dist": "beta", "mean": 0.5, "sd": 0.2}, fraction)
    with pytest.raises(ValueError, match=r"can take the value 1\.5"):
        parse_param({"dist": "uniform", "low": 0.5, "high": 1.5}, fraction)
    with pytest.raises(ValueError, match="can go below 0"):
        parse_param({"dist": "normal", "mean": 0.5, "sd": 0.2}, fraction)
    truncated = parse_param(
        {"dist": "normal", "mean": 0.5, "sd": 0.2, "low": 0, "high": 1}, fraction
    )
    assert truncated.ppf(np.array([1e-12]))[0] >= 0


def test_far_tail_draws_are_clipped_into_the_field():
    growth = support("fraction per year", -0.9, 2)
    param = parse_param({"dist": "normal", "mean": 0.03, "sd": 0.1}, growth)
    values = clip_to(growth, param.ppf(np.array([1e-300, 0.5])))
    assert values[0] >= -0.9 and values[1] == pytest.approx(0.03)


def test_unknown_and_missing_keys():
    with pytest.raises(ValueError, match="unknown key 'sigma' for a normal"):
        parse_param({"dist": "normal", "mean": 1, "sd": 1, "sigma": 2}, ANY)
    with pytest.raises(ValueError, match="'sd' is missing"):
        parse_param({"dist": "gamma", "mean": 1}, ANY)


def test_truncated_normal_far_above_its_mean():
    """A range many sds above the mean must not round to infinity."""
    param = parse_param(
        {"dist": "normal", "mean": 0.02, "sd": 0.005, "low": 0.07, "high": 0.08}, ANY
    )
    reference = stats.truncnorm(10.0, 12.0, loc=0.02, scale=0.005)
    np.testing.assert_allclose(param.ppf(U), reference.ppf(U), rtol=1e-9)


@pytest.mark.parametrize(
    "raw",
    [
        {"dist": "gamma", "mean": 1, "sd": 1e200},
        {"dist": "beta", "mean": 0.5, "sd": 1e-170},
        {"dist": "lognormal", "mean": 1, "sd": 1e160},
    ],
)
def test_extreme_values_are_a_clear_error(raw):
    with pytest.raises(ValueError, match="cannot be computed"):
        parse_param(raw, ANY)
