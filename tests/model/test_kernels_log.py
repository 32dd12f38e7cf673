"""The kernel's vectorised logarithm (kernels.log_divide, used for every Weibull power).

Accuracy is measured against the exact logarithm, taken with ``decimal`` to 40
digits (then the double nearest it is the correctly rounded log), in units in
the last place (ulp) of the exact value. The method (an exact reduction to
x = 2**e * m, m in [sqrt(1/2), sqrt(2)), then f = m - 1 exactly and log(m) as
f plus small terms whose roundings are at most a fraction of f's ulp) keeps the
error below 1 ulp: the result is one of the two doubles around the exact log.
Seen at most 0.80 ulp; libm's own is within 0.52, so the two differ by at most 1 ulp.
"""

from __future__ import annotations

import math
import re
from decimal import Decimal, localcontext

import numpy as np
import pytest
from numba import njit

from simulator.model import kernels

RNG = np.random.default_rng(17)
SMALLEST_SUBNORMAL = 5e-324
SMALLEST_NORMAL = 2.0**-1022
LARGEST = np.finfo(np.float64).max
# The extremes of what reaches the log in the kernel: an exponential variate is
# position * _W_EXP[layer] (position 1 in the narrowest layer is the smallest
# above 0) or, in the tail, _EXP_R - log(2**-53) at most; steady-state gamma
# variates (shape 1 + 1/k, 1.01 to 21) lie well inside the same range.
REACHABLE_LOW = float(kernels._W_EXP.min())
REACHABLE_HIGH = kernels._EXP_R + 53.0 * math.log(2.0)


def _logs(x: np.ndarray, divisor: float = 1.0) -> np.ndarray:
    out = np.array(x, dtype=np.float64)
    kernels.log_divide(out, 0, out.size, divisor)
    return out


def _ulps_from_exact(x: np.ndarray, got: np.ndarray) -> np.ndarray:
    """|got - log(x)| in units in the last place of the exact log(x), for x > 0."""
    errors = np.empty(x.size)
    with localcontext() as context:
        context.prec = 40
        for i, (v, g) in enumerate(zip(x.tolist(), got.tolist(), strict=True)):
            exact = Decimal(v).ln()
            ulp = math.ulp(float(exact))  # the same binade as exact, except at a power of 2
            errors[i] = float(abs(Decimal(g) - exact)) / ulp
    return errors


def _near(values: np.ndarray, steps: int = 3) -> np.ndarray:
    """Each value and its ``steps`` neighbouring doubles on either side."""
    out = [values]
    up, down = values.copy(), values.copy()
    for _ in range(steps):
        up, down = np.nextafter(up, np.inf), np.nextafter(down, 0.0)
        out += [up, down]
    return np.concatenate(out)


DENSE = {
    # Every binade, subnormals included.
    "all binades": np.exp2(RNG.uniform(-1074.0, 1024.0, 12_000)),
    "what reaches it": np.exp2(RNG.uniform(math.log2(REACHABLE_LOW), 6.0, 12_000)),
    "exponential variates": RNG.exponential(size=6_000),
    "gamma variates": RNG.gamma(1.0 + 1.0 / RNG.uniform(0.05, 100.0, 6_000)),
    # Near 1 the log is near 0 and its ulp tiny: the relative error is the test.
    "near 1": np.concatenate(
        [1.0 + RNG.uniform(-d, d, 2_000) for d in (1e-2, 1e-6, 1e-12)] + [_near(np.ones(1), 50)]
    ),
    # Where the reduction's exponent e changes: m jumps from near sqrt(2) to near sqrt(1/2).
    "near sqrt(2) * 2**e": _near(math.sqrt(2.0) * np.exp2(np.arange(-1070.0, 1023.0, 7.0))),
    "powers of 2 and their neighbours": _near(np.exp2(np.arange(-1074.0, 1024.0, 3.0))),
    "extremes": np.concatenate(
        [
            _near(np.array([SMALLEST_SUBNORMAL, SMALLEST_NORMAL, REACHABLE_LOW, REACHABLE_HIGH])),
            np.nextafter(LARGEST, 0.0) - np.arange(3) * 2.0**970,
            [LARGEST],
            kernels._W_EXP[kernels._W_EXP > 0.0],  # each layer's smallest step
        ]
    ),
}


@pytest.mark.parametrize("name", list(DENSE))
def test_within_one_unit_in_the_last_place_of_the_exact_log(name):
    x = DENSE[name]
    x = x[(x > 0.0) & np.isfinite(x)]
    assert x.size > 100
    errors = _ulps_from_exact(x, _logs(x))
    assert errors.max() < 1.0, (name, errors.max(), x[np.argmax(errors)])


def test_within_one_ulp_of_libm_over_many_values():
    # A wider sweep than the exact reference can afford, against math.log.
    x = np.concatenate(
        [
            np.exp2(RNG.uniform(-1074.0, 1024.0, 200_000)),
            RNG.exponential(size=200_000),
            RNG.uniform(0.5, 2.0, 200_000),
        ]
    )
    want = np.array([math.log(v) for v in x.tolist()])
    got = _logs(x)
    assert np.all(np.abs(got - want) <= np.spacing(np.abs(want)))


def test_special_values_as_libm():
    x = np.array([0.0, -0.0, math.inf, math.nan, -1.0, -SMALLEST_SUBNORMAL, -math.inf, 1.0])
    got = _logs(x)
    assert got[0] == -math.inf and got[1] == -math.inf
    assert got[2] == math.inf
    assert np.all(np.isnan(got[3:7]))
    assert got[7] == 0.0  # exactly: a Weibull length given directly has power log(1) / k = 0


def test_division_and_range():
    x = RNG.exponential(size=1_000) + 1e-3
    values = x.copy()
    kernels.log_divide(values, 10, 990, 0.7)
    assert np.array_equal(values[:10], x[:10]) and np.array_equal(values[990:], x[990:])
    want = np.array([math.log(v) / 0.7 for v in x[10:990].tolist()])
    # 1 ulp of the log, then the quotient rounds once more (and again in want).
    assert np.all(np.abs(values[10:990] - want) <= 2.0 * np.spacing(np.abs(want)))
    empty = x.copy()
    kernels.log_divide(empty, 5, 5, 0.7)
    assert np.array_equal(empty, x)


def test_a_raw_weibull_variate_of_zero_gives_a_vanishing_length():
    # An exponential variate is exactly 0 with probability about 2**-52: its
    # power is -inf and exp_scale clamps it, a positive length far below a second.
    power = np.array([0.0, 1.0, 2.0])
    kernels.weibull_powers(power, 0, 3, 1.5)
    assert power[0] == -math.inf and power[1] == 0.0
    length = np.full(3, 40.0)
    kernels.exp_scale(length, power, np.empty(3, dtype=np.int64), 3)
    assert 0.0 < length[0] < 1e-290 and length[1] == 40.0
    assert length[2] == pytest.approx(40.0 * 2.0 ** (1.0 / 1.5), rel=4 * np.finfo(float).eps)


def test_the_loop_compiles_to_vector_instructions_without_calls():
    # The point of the function: a call or a branch left in the loop (a libm
    # log, numba's division-by-zero check) would stop it vectorising, silently.
    # The kernels are cached, and numba cannot show cached code: compile a copy.
    options = {k: v for k, v in kernels.log_divide.targetoptions.items() if k != "cache"}
    options.pop("nopython", None)
    fresh = njit(**options)(kernels.log_divide.py_func)
    fresh(np.ones(4), 0, 4, 1.0)
    ir = fresh.inspect_llvm(fresh.signatures[0])
    assert re.search(r"<\d+ x double>", ir), "log_divide's loop no longer vectorises"
    assert not re.search(r"call [^(]*@(llvm\.)?log", ir)
