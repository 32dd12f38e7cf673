"""The kernels' own random numbers (in simulator.model.kernels) against exact references.

Tolerances: a Kolmogorov-Smirnov p-value above 1e-4 (a false alarm once in
10,000 runs), and counts or moments within Z = 4 Monte Carlo standard errors.
"""

from __future__ import annotations

import numpy as np
import pytest
from numba import njit
from scipy import stats

from simulator.model import kernels as R

Z = 4.0
MASK = (1 << 64) - 1


def _reference_xoshiro(state: list[int], n: int) -> list[int]:
    """xoshiro256** as published by Blackman and Vigna, in plain Python integers."""

    def rotl(x: int, k: int) -> int:
        return ((x << k) | (x >> (64 - k))) & MASK

    s, out = list(state), []
    for _ in range(n):
        out.append(rotl((s[1] * 5) & MASK, 7) * 9 & MASK)
        t = (s[1] << 17) & MASK
        s[2] ^= s[0]
        s[3] ^= s[1]
        s[1] ^= s[2]
        s[0] ^= s[3]
        s[2] ^= t
        s[3] = rotl(s[3], 45)
    return out


@njit
def _raw(state, n):
    s = state[0]
    out = np.empty(n, dtype=np.uint64)
    for i in range(n):
        out[i] = R.next_u64(s)
    return out


@njit
def _fill(state, kind, n, shape):
    s = state[0]
    out = np.empty(n)
    for i in range(n):
        if kind == 0:
            out[i] = R.uniform(s)
        elif kind == 1:
            out[i] = R.normal(s)
        elif kind == 2:
            out[i] = R.exponential(s)
        else:
            out[i] = R.gamma(s, shape)
    return out


def test_xoshiro_matches_the_published_algorithm():
    for words in ([1, 2, 3, 4], [0x9E3779B97F4A7C15, 7, MASK, 1 << 63]):
        assert [int(v) for v in _raw(R.state_from(words), 50)] == _reference_xoshiro(words, 50)


def test_state_comes_from_the_chunk_generator_and_is_reproducible():
    a = R.seed_state(np.random.default_rng(11))
    b = R.seed_state(np.random.default_rng(11))
    c = R.seed_state(np.random.default_rng(12))
    assert a.tobytes() == b.tobytes() != c.tobytes()
    assert a["n_uniform"][0] == a["n_normal"][0] == a["n_gamma"][0] == 0
    assert np.array_equal(_fill(a, 1, 100, 0.0), _fill(b, 1, 100, 0.0))


CASES = [
    ("uniform", 0, 0.0, stats.uniform()),
    ("normal", 1, 0.0, stats.norm()),
    ("exponential", 2, 0.0, stats.expon()),
    ("gamma 0.3", 3, 0.3, stats.gamma(0.3)),
    ("gamma 0.9", 3, 0.9, stats.gamma(0.9)),
    ("gamma 1", 3, 1.0, stats.gamma(1.0)),
    ("gamma 2.5", 3, 2.5, stats.gamma(2.5)),
    ("gamma 40", 3, 40.0, stats.gamma(40.0)),
]


@pytest.mark.parametrize(("name", "kind", "shape", "dist"), CASES, ids=[c[0] for c in CASES])
def test_variates_follow_their_distribution(name, kind, shape, dist):
    n = 400_000
    x = _fill(R.seed_state(np.random.default_rng(2026)), kind, n, shape)
    assert stats.kstest(x, dist.cdf).pvalue > 1e-4, name
    assert abs(x.mean() - dist.mean()) < Z * dist.std() / np.sqrt(n), name
    # The variance's standard error uses the fourth central moment.
    m4 = (
        dist.moment(4)
        - 4 * dist.mean() * dist.moment(3)
        + 6 * dist.mean() ** 2 * dist.moment(2)
        - 3 * dist.mean() ** 4
    )
    se_var = np.sqrt((m4 - dist.var() ** 2) / n)
    assert abs(x.var() - dist.var()) < Z * se_var, name


@pytest.mark.parametrize(
    ("kind", "cut", "tail"),
    [
        (1, R._NORMAL_R, lambda c: 2 * stats.norm.sf(c)),  # the ziggurat's own tail method
        (1, 4.5, lambda c: 2 * stats.norm.sf(c)),
        (2, R._EXP_R, stats.expon.sf),
        (2, 10.0, stats.expon.sf),
    ],
)
def test_tails_are_drawn_as_often_as_they_should_be(kind, cut, tail):
    n = 4_000_000
    x = _fill(R.seed_state(np.random.default_rng(7)), kind, n, 0.0)
    p = tail(cut)
    observed = np.count_nonzero(np.abs(x) > cut)
    assert abs(observed - n * p) < Z * np.sqrt(n * p * (1 - p)) + 1


def test_normal_is_symmetric_layer_by_layer():
    # The sign and the position come from the same word; check they are independent.
    x = _fill(R.seed_state(np.random.default_rng(3)), 1, 1_000_000, 0.0)
    for lo, hi in [(0.0, 0.5), (0.5, 1.5), (1.5, 3.0), (3.0, np.inf)]:
        pos = np.count_nonzero((x > lo) & (x <= hi))
        neg = np.count_nonzero((x < -lo) & (x >= -hi))
        assert abs(pos - neg) < Z * np.sqrt(pos + neg) + 1
