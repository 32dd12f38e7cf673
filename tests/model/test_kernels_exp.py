"""The kernel's vectorised exponential (kernels.exp_scale) against math.exp."""

from __future__ import annotations

import math

import numpy as np

from simulator.model.kernels import exp_scale

ULP = np.finfo(np.float64).eps


def _exp_scale(power: np.ndarray, scale: np.ndarray | None = None) -> np.ndarray:
    n = power.size
    out = np.ones(n) if scale is None else scale.copy()
    exp_scale(out, power, np.empty(n, dtype=np.int64), n)
    return out


def test_within_two_units_in_the_last_place_of_libm():
    rng = np.random.default_rng(5)
    for low, high in [(-1.0, 1.0), (-30.0, 30.0), (-700.0, 700.0)]:
        x = rng.uniform(low, high, 200_000)
        got = _exp_scale(x)
        want = np.array([math.exp(v) for v in x])
        assert np.max(np.abs(got / want - 1.0)) <= 2 * ULP


def test_exact_where_it_must_be():
    # power 0 leaves the scale exactly as it was (known costs and direct lengths).
    scale = np.array([328.0, 0.1, 1e9, 0.0, 52.25])
    assert np.array_equal(_exp_scale(np.zeros(5), scale), scale)


def test_accurate_where_the_reduction_changes_k():
    # x near (k + 1/2) ln 2, where the reduced argument is at its widest.
    k = np.arange(-900, 900)
    x = np.concatenate([(k + 0.5) * math.log(2.0) + d for d in (-1e-12, 0.0, 1e-12)])
    x = x[np.abs(x) <= 700.0]
    want = np.array([math.exp(v) for v in x])
    assert np.max(np.abs(_exp_scale(x) / want - 1.0)) <= 2 * ULP


def test_only_the_first_n_values_change_and_extremes_stay_finite():
    power = np.array([1.0, 2.0, 3.0])
    out = np.full(3, 7.0)
    exp_scale(out, power, np.empty(3, dtype=np.int64), 2)
    assert out[2] == 7.0
    assert abs(out[0] / (7.0 * math.e) - 1.0) <= 2 * ULP
    huge = _exp_scale(np.array([1e4, -1e4]))
    assert np.all(np.isfinite(huge)) and huge[0] > 1e300 and 0.0 < huge[1] < 1e-300
