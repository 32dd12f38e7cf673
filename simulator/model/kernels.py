"""numba kernels: the per-placement part of the model.

Arrays and a random state (:data:`STATE`) in, preallocated arrays filled, nothing
else: no config, no files, no printing. The equations these kernels implement
are set out, in order, in :mod:`simulator.model.equations` and ``docs/model.md``.

The file holds, in order: the random number generator the kernels draw from
(and its samplers on the state as values, for the loops that draw placements),
the model's draws of lengths and costs, a vectorised exponential and logarithm,
and the kernel that charges every placement to months.

Time is in weeks since the start of the horizon. Each placement is charged its
weekly cost for exactly the part of each month it is open, using difference
arrays so the work per placement is constant however long it lasts.

Length families and their two parameters (``p1``, ``p2``):

==========  ===================  ==================
family      p1                   p2
==========  ===================  ==================
0 lognormal mu (log weeks)       sigma
1 gamma     shape k              scale theta (weeks)
2 weibull   shape k              scale lambda (weeks)
3 exponential scale theta (weeks)  unused
==========  ===================  ==================
"""

from __future__ import annotations

import math

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.extending import intrinsic

# ------------------------------------------------------------------ the generator
#
# The kernels' random numbers: xoshiro256** with ziggurat normal and exponential
# variates, compiled into the kernels. It lives in this file, not a module of
# its own, because numba's cache checks only the file that defines a kernel:
# samplers inlined from another file could go stale in the cache unnoticed.
#
# Why not the chunk's ``numpy.random.Generator``, as numba allows? numba calls
# the Generator's bit generator through a function pointer for every variate:
# about 4.9 ns a uniform and 3.7 ns a normal on the benchmark machine, which
# was 40% of the kernel's time. Inlined here: 1.5 ns a uniform, 3 ns a normal.
#
# Reproducibility is unchanged. Each chunk still has its own
# ``numpy.random.Generator`` from ``SeedSequence(seed).spawn(...)``; the kernel's
# state is four words drawn from it (:func:`seed_state`), so results still
# depend only on the seed and the chunk, never on the number of threads.
#
# The algorithms are standard and exact:
#
# - xoshiro256** (Blackman and Vigna, 2018): 256 bits of state, period 2**256 - 1;
# - uniform on [0, 1): the top 53 bits times 2**-53;
# - normal and exponential: the 256-layer ziggurat of Marsaglia and Tsang (2000),
#   with the layer index and the position taken from separate bits of one
#   64-bit word (as numpy does) and Marsaglia's exact method for the normal tail;
# - gamma: Marsaglia and Tsang (2000) for shape >= 1, and
#   Gamma(k) = Gamma(k + 1) * U**(1/k) below 1.
#
# ``tests/test_rng.py`` checks each against scipy's distributions.

_LAYERS = 256
_FRACTION_BITS = 52  # bits of a word that place a point within a layer
_TO_UNIT = 1.0 / 9007199254740992.0  # 2**-53


def _ziggurat(f, f_inverse, r: float, v: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Tables of a 256-layer ziggurat for a decreasing density ``f`` on [0, inf).

    Layer ``i`` is a box of width ``x[i]`` and area ``v``; layer 0 is the base,
    of height f(r), together with the tail beyond ``r``. A point at ``u * x[i]``
    (u uniform on [0, 1)) is under the curve for certain when it is below
    ``x[i + 1]``.

    Returns
    -------
    k : int64[256]
        ``x[i + 1] / x[i]`` as a 52-bit threshold (the quick acceptance test).
    w : float64[256]
        ``x[i] * 2**-52``: turns 52 random bits into a position in layer i.
    f_at : float64[257]
        ``f(x[i])``, for the slow test in the wedges.
    """
    x = np.empty(_LAYERS + 1)
    x[0], x[1] = v / f(r), r
    for i in range(1, _LAYERS - 1):
        x[i + 1] = f_inverse(v / x[i] + f(x[i]))
    x[_LAYERS] = 0.0
    scale = float(2**_FRACTION_BITS)
    k = np.array([int(x[i + 1] / x[i] * scale) for i in range(_LAYERS)], dtype=np.int64)
    w = x[:_LAYERS] / scale
    f_at = np.array([f(xi) for xi in x])
    return k, w, f_at


_NORMAL_R = 3.6541528853610088
_K_NORMAL, _W_NORMAL, _F_NORMAL = _ziggurat(
    lambda x: math.exp(-0.5 * x * x),
    lambda y: math.sqrt(-2.0 * math.log(y)),
    _NORMAL_R,
    4.92867323399e-3,
)
_EXP_R = 7.69711747013104972
_K_EXP, _W_EXP, _F_EXP = _ziggurat(
    lambda x: math.exp(-x), lambda y: -math.log(y), _EXP_R, 3.9496598225815571993e-3
)

# Constants as uint64 so numba never mixes them with signed integers (which
# would promote the arithmetic to float64).
_S7, _S17, _S19, _S45, _S57 = (np.uint64(k) for k in (7, 17, 19, 45, 57))
_FIVE, _NINE = np.uint64(5), np.uint64(9)
_S11, _S8, _S1 = np.uint64(11), np.uint64(8), np.uint64(1)
_LOW8 = np.uint64(0xFF)
_LOW52 = np.uint64((1 << _FRACTION_BITS) - 1)
_ONE = np.uint64(1)
_S11_SIGNED = np.int64(11)


#: The generator's state: one record of four words, and counters of the
#: variates a kernel drew by kind (which kernels keep, for the benchmark's
#: random-number floor; the functions here never touch them). A kernel takes
#: the array and works on ``state[0]``, a record that numba passes by reference
#: without reference counting (an array passed into every inlined draw cost an
#: atomic reference-count update per variate, doubling the kernel's time).
STATE = np.dtype(
    [(f"s{i}", np.uint64) for i in range(4)]
    + [(f"n_{kind}", np.int64) for kind in ("uniform", "normal", "exponential", "gamma")]
)


def state_from(words) -> np.ndarray:
    """A kernel state (an array of one :data:`STATE` record) holding four 64-bit words."""
    state = np.zeros(1, dtype=STATE)
    for i, word in enumerate(words):
        state[0][f"s{i}"] = word
    return state


def seed_state(rng: np.random.Generator) -> np.ndarray:
    """A kernel state drawn from a chunk's generator (:func:`state_from` of four raw words)."""
    words = rng.bit_generator.random_raw(4).astype(np.uint64)
    if not words.any():  # the one state xoshiro cannot leave; chance 2**-256
        words[0] = 1
    return state_from(words)


@njit(cache=True, nogil=True, inline="always")
def next_u64(s):
    """The next 64 random bits; advances the state ``s`` (a :data:`STATE` record) in place."""
    s0, s1, s2, s3 = s.s0, s.s1, s.s2, s.s3
    x = s1 * _FIVE
    result = ((x << _S7) | (x >> _S57)) * _NINE
    t = s1 << _S17
    s2 ^= s0
    s3 ^= s1
    s1 ^= s2
    s0 ^= s3
    s2 ^= t
    s.s0, s.s1, s.s2, s.s3 = s0, s1, s2, (s3 << _S45) | (s3 >> _S19)
    return result


@njit(cache=True, nogil=True, inline="always")
def uniform(s):
    """Uniform on [0, 1) with 53 random bits."""
    return float(next_u64(s) >> _S11) * _TO_UNIT


@njit(cache=True, nogil=True)
def _normal_tail(s, negative):
    """Marsaglia's exact method for a normal beyond the ziggurat's base, ``|z| > r``."""
    while True:
        x = -math.log1p(-uniform(s)) / _NORMAL_R
        y = -math.log1p(-uniform(s))
        if y + y > x * x:
            return -(_NORMAL_R + x) if negative else _NORMAL_R + x


@njit(cache=True, nogil=True, inline="always")
def normal(s):
    """A standard normal variate."""
    while True:
        bits = next_u64(s)
        layer = bits & _LOW8
        # The top 53 bits as a signed integer give the sign and the position
        # together, with no branch on the sign (which would be mispredicted
        # half the time).
        signed = np.int64(bits) >> _S11_SIGNED
        x = float(signed) * _W_NORMAL[layer]
        if abs(signed) < _K_NORMAL[layer]:
            return x
        if layer == 0:
            return _normal_tail(s, x < 0.0)
        low, high = _F_NORMAL[layer], _F_NORMAL[layer + 1]
        if low + uniform(s) * (high - low) < math.exp(-0.5 * x * x):
            return x


@njit(cache=True, nogil=True, inline="always")
def exponential(s):
    """A standard exponential variate (mean 1)."""
    while True:
        bits = next_u64(s)
        layer = bits & _LOW8
        position = np.int64((bits >> _S8) & _LOW52)
        x = float(position) * _W_EXP[layer]
        if position < _K_EXP[layer]:
            return x
        if layer == 0:
            # The exponential is memoryless: beyond r it is r plus a fresh one.
            return _EXP_R - math.log1p(-uniform(s))
        low, high = _F_EXP[layer], _F_EXP[layer + 1]
        if low + uniform(s) * (high - low) < math.exp(-x):
            return x


@njit(cache=True, nogil=True)
def gamma(s, shape):
    """A standard gamma variate (scale 1) of the given shape > 0, as a call (:func:`gamma_inline`)."""
    return gamma_inline(s, shape)


@njit(cache=True, nogil=True, inline="always")
def gamma_inline(s, shape):
    """A standard gamma variate (scale 1) of the given shape > 0, compiled into the caller.

    Where placements are drawn (as :func:`_gamma_v`, on state values): a call
    there made the compiler save and reload the sampler's working values around
    it. Elsewhere :func:`gamma` (each inlined copy lengthens the first compilation).
    """
    if shape == 1.0:
        return exponential(s)
    boost = 1.0
    if shape < 1.0:
        # Gamma(k) = Gamma(k + 1) * U**(1/k); 1 - U is in (0, 1], never zero.
        boost = math.exp(math.log(1.0 - uniform(s)) / shape)  # libm's pow is 4x slower
        shape += 1.0
    d = shape - 1.0 / 3.0
    c = 1.0 / math.sqrt(9.0 * d)
    while True:
        z = normal(s)
        v = 1.0 + c * z
        if v <= 0.0:
            continue
        v = v * v * v
        u = 1.0 - uniform(s)
        if u < 1.0 - 0.0331 * z**4:
            return boost * d * v
        if math.log(u) < 0.5 * z * z + d * (1.0 - v + math.log(v)):
            return boost * d * v


# ------------------------------------------------------------------ the state as values
#
# The samplers above advance the state record in memory. In a loop that also
# stores to arrays (the placements' batch) the compiler cannot tell the record
# from the arrays, both being pointers, so it loaded and stored the four state
# words, and the counters, around every variate. The copies below take the state
# as four values and return it, so it stays in registers through a loop: a
# placement cost about 2 ns less (a tenth of the kernel on the example county).
# Their rare paths (the ziggurats' wedges and tails) hand the state back to the
# record and finish with the samplers above, so the variates and their order are
# exactly those of the samplers above (``tests/model/test_state_values.py``).


@njit(cache=True, nogil=True, inline="always")
def _words(s):
    """The four state words of the record ``s``, as values."""
    return s.s0, s.s1, s.s2, s.s3


@njit(cache=True, nogil=True, inline="always")
def _put(s, st):
    """Store the state words ``st`` back into the record ``s``."""
    s.s0, s.s1, s.s2, s.s3 = st


@njit(cache=True, nogil=True, inline="always")
def _next_v(st):
    """:func:`next_u64` on state values: (64 random bits, the next state)."""
    s0, s1, s2, s3 = st
    x = s1 * _FIVE
    result = ((x << _S7) | (x >> _S57)) * _NINE
    t = s1 << _S17
    s2 ^= s0
    s3 ^= s1
    s1 ^= s2
    s0 ^= s3
    s2 ^= t
    return result, (s0, s1, s2, (s3 << _S45) | (s3 >> _S19))


@njit(cache=True, nogil=True, inline="always")
def _uniform_v(st):
    """:func:`uniform` on state values: (u, the next state)."""
    bits, st = _next_v(st)
    return float(bits >> _S11) * _TO_UNIT, st


@njit(cache=True, nogil=True)
def _normal_rest(s, bits):
    """:func:`normal` after its first word ``bits`` missed the quick test (about 1 in 100)."""
    layer = bits & _LOW8
    signed = np.int64(bits) >> _S11_SIGNED
    x = float(signed) * _W_NORMAL[layer]
    if layer == 0:
        return _normal_tail(s, x < 0.0)
    low, high = _F_NORMAL[layer], _F_NORMAL[layer + 1]
    if low + uniform(s) * (high - low) < math.exp(-0.5 * x * x):
        return x
    return normal(s)


@njit(cache=True, nogil=True, inline="always")
def _normal_v(s, st):
    """:func:`normal` on state values: (z, the next state); ``s`` is the record, for rare paths."""
    bits, st = _next_v(st)
    layer = bits & _LOW8
    signed = np.int64(bits) >> _S11_SIGNED
    x = float(signed) * _W_NORMAL[layer]
    if abs(signed) < _K_NORMAL[layer]:
        return x, st
    _put(s, st)
    x = _normal_rest(s, bits)
    return x, _words(s)


@njit(cache=True, nogil=True)
def _exponential_rest(s, bits):
    """:func:`exponential` after its first word ``bits`` missed the quick test."""
    layer = bits & _LOW8
    position = np.int64((bits >> _S8) & _LOW52)
    x = float(position) * _W_EXP[layer]
    if layer == 0:
        return _EXP_R - math.log1p(-uniform(s))
    low, high = _F_EXP[layer], _F_EXP[layer + 1]
    if low + uniform(s) * (high - low) < math.exp(-x):
        return x
    return exponential(s)


@njit(cache=True, nogil=True, inline="always")
def _exponential_v(s, st):
    """:func:`exponential` on state values: (e, the next state)."""
    bits, st = _next_v(st)
    layer = bits & _LOW8
    position = np.int64((bits >> _S8) & _LOW52)
    x = float(position) * _W_EXP[layer]
    if position < _K_EXP[layer]:
        return x, st
    _put(s, st)
    x = _exponential_rest(s, bits)
    return x, _words(s)


@njit(cache=True, nogil=True, inline="always")
def _gamma_v(s, st, shape):
    """:func:`gamma_inline` on state values: (g, the next state), step for step."""
    if shape == 1.0:
        return _exponential_v(s, st)
    boost = 1.0
    if shape < 1.0:
        u, st = _uniform_v(st)
        boost = math.exp(math.log(1.0 - u) / shape)
        shape += 1.0
    d = shape - 1.0 / 3.0
    c = 1.0 / math.sqrt(9.0 * d)
    while True:
        z, st = _normal_v(s, st)
        v = 1.0 + c * z
        if v <= 0.0:
            continue
        v = v * v * v
        u, st = _uniform_v(st)
        u = 1.0 - u
        if u < 1.0 - 0.0331 * z**4:
            return boost * d * v, st
        if math.log(u) < 0.5 * z * z + d * (1.0 - v + math.log(v)):
            return boost * d * v, st


# ------------------------------------------------------------------ the model's draws

LOGNORMAL, GAMMA, WEIBULL, EXPONENTIAL = 0, 1, 2, 3
FAMILY_CODES = {
    "lognormal": LOGNORMAL,
    "gamma": GAMMA,
    "weibull": WEIBULL,
    "exponential": EXPONENTIAL,
}

# Positions in the counter array of random variates drawn, for the benchmark's
# random-number floor.
N_UNIFORM, N_NORMAL, N_EXPONENTIAL, N_GAMMA = 0, 1, 2, 3
N_COUNTERS = 4


@njit(cache=True, nogil=True, inline="always")
def _uniform(rng):
    rng.n_uniform += 1
    return uniform(rng)


@njit(cache=True, nogil=True, inline="always")
def _normal(rng):
    rng.n_normal += 1
    return normal(rng)


@njit(cache=True, nogil=True, inline="always")
def _exponential(rng):
    rng.n_exponential += 1
    return exponential(rng)


@njit(cache=True, nogil=True, inline="always")
def _gamma(rng, shape):
    rng.n_gamma += 1
    return gamma(rng, shape)


@njit(cache=True, nogil=True, inline="always")
def _tally(rng, uniforms, normals, kind, count):
    """Add variates drawn on state values to the record's counters, once per loop.

    ``uniforms`` and ``normals``, and ``count`` more of counter ``kind``
    (:func:`length_kind`, :func:`steady_kind`; -1 for none).
    """
    rng.n_uniform += uniforms
    rng.n_normal += normals + (count if kind == N_NORMAL else 0)
    rng.n_exponential += count if kind == N_EXPONENTIAL else 0
    rng.n_gamma += count if kind == N_GAMMA else 0


# The same draws as calls rather than inlined code, for the rarely taken paths
# (placements with a known elapsed time or a planned end): inlining the
# ziggurat samplers everywhere made the first compilation four times as long.
@njit(cache=True, nogil=True)
def _normal_call(rng):
    return _normal(rng)


@njit(cache=True, nogil=True)
def _exponential_call(rng):
    return _exponential(rng)


@njit(cache=True, nogil=True, inline="always")
def length_parts_v(rng, st, family, p1, p2):
    """One placement length in weeks, as (scale, power, next state): scale * exp(power).

    On state values (``st``; ``rng`` is the record, for the samplers' rare
    paths); the caller counts the variate (:func:`length_kind`). Returning the
    exponent rather than the length lets the kernel take the exponentials of a
    whole service's placements at once (:func:`exp_scale`). For Weibull
    lengths the second value is the raw exponential variate E, not yet the
    power log(E) / k: the caller takes the logs of a whole batch at once
    (:func:`weibull_powers`).
    """
    if family == LOGNORMAL:
        if p2 == 0.0:
            return 1.0, p1, st
        z, st = _normal_v(rng, st)
        return 1.0, p1 + p2 * z, st
    if family == GAMMA:
        g, st = _gamma_v(rng, st, p1)
        return p2 * g, 0.0, st
    e, st = _exponential_v(rng, st)  # one inlined sampler for both families: quicker to compile
    if family == WEIBULL:
        return p2, e, st  # lambda * E ** (1/k); the caller turns E into log(E) / k (weibull_powers)
    return p1 * e, 0.0, st


@njit(cache=True, nogil=True, inline="always")
def length_kind(family, p1, p2):
    """The counter (``N_*``) of the variate a length of this law draws, or -1 for none."""
    if family == LOGNORMAL:
        return N_NORMAL if p2 != 0.0 else -1
    return N_GAMMA if family == GAMMA else N_EXPONENTIAL


@njit(cache=True, nogil=True, inline="always")
def steady_kind(family, p2):
    """The counter of what :func:`steady_state_parts_v` draws after its uniform (-1: none)."""
    if family == LOGNORMAL:
        return N_NORMAL if p2 != 0.0 else -1
    return N_GAMMA


@njit(cache=True, nogil=True)
def _length_parts_call(rng, family, p1, p2):
    """:func:`length_parts_v` on the record, the samplers called, for the rarely taken paths."""
    if family == LOGNORMAL:
        if p2 == 0.0:
            return 1.0, p1
        return 1.0, p1 + p2 * _normal_call(rng)
    if family == GAMMA:
        return p2 * _gamma(rng, p1), 0.0
    e = _exponential_call(rng)
    if family == WEIBULL:
        return p2, e
    return p1 * e, 0.0


@njit(cache=True, nogil=True, inline="always")
def steady_state_parts_v(rng, st, family, p1, p2):
    """Remaining weeks of a placement in a steady-state caseload, as (scale, power, next state).

    In a steady-state caseload the remaining time has density S(r) / E[L]; it
    is a uniform fraction of a length-biased length (density l f(l) / E[L]).
    As in :func:`length_parts_v`, on state values, and a Weibull power is
    returned raw (a gamma variate G whose log(G) / k is the power). Draws a
    uniform, then a normal (lognormal, spread > 0) or a gamma variate (the others).
    """
    u, st = _uniform_v(st)
    if family == LOGNORMAL:
        if p2 == 0.0:
            return u, p1, st
        z, st = _normal_v(rng, st)
        return u, p1 + p2 * p2 + p2 * z, st
    # One gamma draw for the three families: one inlined copy of the sampler.
    if family == GAMMA:
        shape = p1 + 1.0
    elif family == WEIBULL:
        shape = 1.0 + 1.0 / p1
    else:
        shape = 2.0
    g, st = _gamma_v(rng, st, shape)
    if family == GAMMA:
        return u * p2 * g, 0.0, st
    if family == WEIBULL:
        return u * p2, g, st  # raw G; the power log(G) / k is taken by weibull_powers
    return u * p1 * g, 0.0, st


@njit(cache=True, nogil=True)
def weibull_powers(power, first, stop, k):
    """``power[i] = log(power[i]) / k`` for ``first <= i < stop``: Weibull powers from raw variates.

    Taken in a pass of their own rather than as each length is drawn, with the
    vectorised log of :func:`log_divide` (within 1 ulp of libm's). Every Weibull
    power of the kernel is taken here. A raw variate can be exactly 0 (an
    exponential variate is 0 when its 52-bit position is, about once in 2**52);
    its power is then -inf, as with ``math.log``, and :func:`exp_scale` makes
    the length ``lambda * exp(-700)``. Nothing else outside (0, 1000) reaches it.
    """
    log_divide(power, first, stop, k)


@njit(cache=True, nogil=True)
def _truncated_standard_normal(rng, z0):
    """A standard normal conditioned on being above ``z0`` (exact)."""
    if z0 < 0.45:
        # Plain rejection accepts with probability at least 1 - Phi(0.45) = 0.33.
        while True:
            z = _normal_call(rng)
            if z > z0:
                return z
    # Robert (1995): exponential proposal with the optimal rate for the tail.
    alpha = 0.5 * (z0 + math.sqrt(z0 * z0 + 4.0))
    while True:
        x = z0 + _exponential_call(rng) / alpha
        if _uniform(rng) <= math.exp(-0.5 * (x - alpha) ** 2):
            return x


@njit(cache=True, nogil=True)
def _gamma_residual_unit(rng, k, x):
    """Remaining length of a unit-scale gamma(k) that has lasted ``x`` (exact)."""
    if x <= k:
        # Below the mean, survival is at least 0.12 (0.3 for shape >= 0.3): draw until past x.
        while True:
            g = _gamma(rng, k)
            if g > x:
                return g - x
    if k >= 1.0:
        # Exponential proposal; (1 + y/x)^(k-1) <= exp((k-1) y / x) bounds the ratio.
        rate = 1.0 - (k - 1.0) / x
        while True:
            y = _exponential_call(rng) / rate
            accept = (1.0 + y / x) ** (k - 1.0) * math.exp(-(k - 1.0) * y / x)
            if _uniform(rng) <= accept:
                return y
    while True:
        # k < 1: the density (x+y)^(k-1) e^-y is bounded by x^(k-1) e^-y.
        y = _exponential_call(rng)
        if _uniform(rng) <= (1.0 + y / x) ** (k - 1.0):
            return y


@njit(cache=True, nogil=True)
def sample_remaining(rng, family, p1, p2, elapsed):
    """Remaining weeks of a placement that has already lasted ``elapsed`` weeks.

    Drawn from the length distribution conditioned on L > elapsed, so a child
    three years into a placement does not get a fresh length. At ``elapsed`` 0
    each branch below reduces to a fresh length (log 0 is minus infinity).
    """
    elapsed = max(elapsed, 0.0)
    if family == LOGNORMAL:
        if p2 == 0.0:
            # A degenerate length: a placement past it ends at once.
            return max(math.exp(p1) - elapsed, 0.0)
        z0 = (math.log(elapsed) - p1) / p2
        return math.exp(p1 + p2 * _truncated_standard_normal(rng, z0)) - elapsed
    if family == GAMMA:
        return p2 * _gamma_residual_unit(rng, p1, elapsed / p2)
    if family == WEIBULL:
        # Closed form: S(l) = exp(-(l/lambda)^k), so (L/lambda)^k - (a/lambda)^k is Exp(1).
        e = _exponential_call(rng)
        x = elapsed / p2
        if x <= 1.0:
            return max(p2 * (x**p1 + e) ** (1.0 / p1) - elapsed, 0.0)
        # Far past the scale, x^k can overflow: L = a (1 + e x^-k)^(1/k), in logs.
        return elapsed * math.expm1(math.log1p(e * math.exp(-p1 * math.log(x))) / p1)
    return p1 * _exponential_call(rng)


@njit(cache=True, nogil=True, inline="always")
def cost_power_tail(rng, law):
    """Log of the weekly cost of one placement, and whether it is in the high-cost tail.

    ``law`` is (mu, sigma, tail_share, tail_mu, tail_sigma): log-scale mean and
    spread of the body, the share in the tail, and the tail's mean and spread.
    """
    mu, sigma, tail_share, tail_mu, tail_sigma = law
    tail = False
    if tail_share > 0.0 and _uniform(rng) < tail_share:
        mu, sigma, tail = tail_mu, tail_sigma, True
    if sigma == 0.0:
        return mu, tail
    return mu + sigma * _normal(rng), tail


@njit(cache=True, nogil=True, inline="always")
def cost_power_tail_v(rng, st, law):
    """:func:`cost_power_tail` on state values: (power, tail, normals drawn (0 or 1), next state).

    Draws a uniform where ``law`` has a tail share (the caller counts it).
    """
    mu, sigma, tail_share, tail_mu, tail_sigma = law
    tail = False
    if tail_share > 0.0:
        u, st = _uniform_v(st)
        if u < tail_share:
            mu, sigma, tail = tail_mu, tail_sigma, True
    if sigma == 0.0:
        return mu, tail, 0, st
    z, st = _normal_v(rng, st)
    return mu + sigma * z, tail, 1, st


# exp(x) = 2**k * exp(r) with k = round(x / ln 2) and |r| <= ln(2) / 2. ln 2 is
# split in two (Cody and Waite) so that x - k ln 2 is exact to double precision.
_LOG2E = 1.4426950408889634
_LN2_HI = 6.93147180369123816490e-01
_LN2_LO = 1.90821492927058770002e-10
_ROUND = 6755399441055744.0  # 1.5 * 2**52: adding and subtracting it rounds to an integer
_EXP_LIMIT = 700.0  # |x| beyond this is clamped (e**700 weeks or GBP is far out of any range)
# Taylor coefficients 1/j!: the remainder r**14 / 14! is below 2e-18 for |r| <= ln(2) / 2.
_C2, _C3, _C4, _C5, _C6, _C7 = (1.0 / math.factorial(j) for j in range(2, 8))
_C8, _C9, _C10, _C11, _C12, _C13 = (1.0 / math.factorial(j) for j in range(8, 14))


@njit(cache=True, nogil=True, fastmath={"contract"})
def exp_scale(scale, power, two_k, n):
    """``scale[i] *= exp(power[i])`` for i < n, vectorised.

    libm's exp is a call per value that the compiler cannot vectorise; it was
    a fifth of the kernel's time. This loop has no calls or branches, so it
    runs on the CPU's vector units. Accuracy: within 2 units in the last place
    of ``math.exp`` for |x| <= 700 (``tests/test_kernels_exp.py``).

    Parameters
    ----------
    scale, power : float64[>= n]
        Multipliers and exponents; ``scale`` is overwritten with the products.
    two_k : int64[>= n]
        Workspace: the bits of 2**k for each value.
    n : int
    """
    for i in range(n):
        x = min(max(power[i], -_EXP_LIMIT), _EXP_LIMIT)
        k = (x * _LOG2E + _ROUND) - _ROUND
        r = (x - k * _LN2_HI) - k * _LN2_LO
        p = _C13
        p = p * r + _C12
        p = p * r + _C11
        p = p * r + _C10
        p = p * r + _C9
        p = p * r + _C8
        p = p * r + _C7
        p = p * r + _C6
        p = p * r + _C5
        p = p * r + _C4
        p = p * r + _C3
        p = p * r + _C2
        scale[i] *= 1.0 + (r + r * r * p)
        two_k[i] = (np.int64(k) + 1023) << 52
    as_float = two_k.view(np.float64)  # the exponent bits make the double 2**k
    for i in range(n):
        scale[i] *= as_float[i]


# log(x) = e ln 2 + log(m) with x = 2**e * m and m in [sqrt(1/2), sqrt(2)), both
# read from the bits of x. With f = m - 1 (exact) and s = f / (2 + f), log(m) =
# 2 atanh(s) = f - f**2 / 2 + s (f**2 / 2 + R(s**2)), R(z) = sum of 2 z**j / (2j + 1)
# for j >= 1; the rounding falls on the small terms after f (the arrangement of
# Sun's fdlibm log), and e ln 2 is split as in exp_scale, e * _LN2_HI being exact.
_SQRT_HALF_BITS = np.int64(np.float64(math.sqrt(0.5)).view(np.int64))  # 0x3FE6A09E667F3BCD
_SMALLEST_NORMAL = 2.0**-1022
_TWO_54 = 2.0**54  # lifts a subnormal into the normal range
# R to z**10: |s| <= 3 - 2 sqrt(2), so z <= 0.0295, and s times the terms left out
# (from 2 z**11 / 23 on) is below 6.5e-19 of log(m) = 2 atanh(s) (2**-60).
_L1, _L2, _L3, _L4, _L5 = (2.0 / (2 * j + 1) for j in range(1, 6))
_L6, _L7, _L8, _L9, _L10 = (2.0 / (2 * j + 1) for j in range(6, 11))


@intrinsic
def _bits_of(typingctx, x):
    """The 64 bits of a double as an int64, in a register.

    numba's ``np.float64(x).view(np.int64)`` goes through memory and stops the
    loop around it from vectorising; this is the plain bit cast.
    """

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.IntType(64))

    return types.int64(types.float64), codegen


@intrinsic
def _double_of(typingctx, bits):
    """The double whose 64 bits are the int64 ``bits`` (the inverse of :func:`_bits_of`)."""

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.DoubleType())

    return types.float64(types.int64), codegen


@njit(cache=True, nogil=True, fastmath={"contract"}, error_model="numpy", inline="always")
def _log(x):
    """The natural log of ``x`` without calls or branches (a loop of it vectorises).

    Below 1 unit in the last place of the exact logarithm (largest seen 0.80
    over dense samples of every binade, subnormals included; libm's own is
    within 0.52), so within 1 ulp of ``math.log``. Special values as
    ``math.log``: 0 gives -inf, inf gives inf, NaN and negative values give
    NaN; they are chosen by selects after the arithmetic, not branches. The
    caller must compile with ``error_model="numpy"``, else the division gets a
    zero check (a branch).
    """
    tiny = x < _SMALLEST_NORMAL
    bits = _bits_of(x * (_TWO_54 if tiny else 1.0))
    # Subtracting sqrt(1/2)'s bits carries into the exponent field exactly when
    # the significand is at least sqrt(2)'s: the shift is then e, m = x / 2**e.
    offset = bits - _SQRT_HALF_BITS
    e = (offset >> 52) - (54 if tiny else 0)
    m = _double_of(bits - ((offset >> 52) << 52))
    f = m - 1.0
    s = f / (2.0 + f)
    z = s * s
    r = _L10
    r = r * z + _L9
    r = r * z + _L8
    r = r * z + _L7
    r = r * z + _L6
    r = r * z + _L5
    r = r * z + _L4
    r = r * z + _L3
    r = r * z + _L2
    r = r * z + _L1
    r *= z
    half_f2 = 0.5 * f * f
    k = float(e)
    y = k * _LN2_HI - ((half_f2 - (s * (half_f2 + r) + k * _LN2_LO)) - f)
    y = y if x < math.inf else x  # inf stays inf; NaN fails the test and stays NaN
    return y if x > 0.0 else (-math.inf if x == 0.0 else math.nan)


@njit(cache=True, nogil=True, fastmath={"contract"}, error_model="numpy")
def log_divide(values, first, stop, divisor):
    """``values[i] = log(values[i]) / divisor`` for ``first <= i < stop``, vectorised.

    libm's log is a call per value that the compiler cannot vectorise: 3.5 ns a
    value on the benchmark machine, against 0.9 ns here. Accuracy and special
    values as :func:`_log` (``tests/model/test_kernels_log.py``), then one
    rounding for the division.

    Parameters
    ----------
    values : float64[>= stop]
        Overwritten in place in ``[first, stop)``.
    first, stop : int
        The range, ``0 <= first <= stop``.
    divisor : float
        Not 0 (a Weibull shape, at least 0.05).
    """
    part = values[first:stop]  # indices from 0 on a slice: no wraparound check, so it vectorises
    for i in range(part.size):
        part[i] = _log(part[i]) / divisor


@njit(cache=True, nogil=True, inline="always")
def _charge(start, end, cost, first_month, edges, month_of_day, direct, rate, opened):
    """Charge a placement open on [start, end) weeks at ``cost`` per week.

    ``direct`` takes the part-month charges, ``rate`` the changes in the weekly
    charge at month boundaries, ``opened`` the changes in the month-end count.
    All three have a spare slot at index M (the number of months) that absorbs
    the end of a placement running past the horizon. The same four updates are
    right whether the placement ends in its first month, a later month, or
    after the horizon (in its first month the rate change and the extra
    part-month charge cancel), so there are no branches to mispredict: this is
    the innermost step of the model.
    """
    n_days = month_of_day.size - 1
    last = month_of_day[int(min(end * 7.0, n_days))]
    if last < edges.size - 1 and end >= edges[last + 1]:
        last += 1  # ends on a month's first midnight, which end * 7 rounded to just below
    direct[first_month] += cost * (edges[first_month + 1] - start)
    rate[first_month + 1] += cost
    opened[first_month] += 1
    direct[last] += cost * (end - edges[last])
    rate[last] -= cost
    opened[last] -= 1


@njit(cache=True, nogil=True)
def edges_with_sentinel(edges):
    """The month boundaries ``edges`` (weeks, M + 1) followed by NaN, for :func:`_charge_all`.

    The NaN is the boundary after the slot past the horizon: no end compares
    as reaching it (every comparison with NaN is false), so the check for an
    end on a month's first midnight needs no branch on whether the end falls
    inside the horizon.
    """
    out = np.empty(edges.size + 1)
    out[: edges.size] = edges
    out[edges.size] = np.nan
    return out


@njit(cache=True, nogil=True)
def _charge_all(start, length, cost, first, n, edges, month_of_day, direct, rate, opened):
    """Charge placements ``0:n`` (:func:`_charge` of each, in order), with the same sums.

    Placements come in runs with the same first month (every starting
    placement; then the new ones month by month), so the sums of the current
    first month are kept in registers while its run lasts, instead of each
    placement reading back what the one before it stored (a chain of
    dependent loads and stores that was most of the charging time). An end
    in that month goes to the registers too; every other end to memory, so
    each slot still adds the same terms in the same order: identical results.
    Indices are unsigned: numba then skips its negative-index wraparound.

    ``edges`` is :func:`edges_with_sentinel` of the month boundaries (M + 2
    values, the last NaN): the end's month is then corrected for a first
    midnight without a branch. A branch on whether the end is inside the
    horizon, as :func:`_charge` has, was mispredicted for about a third of
    placements and cost two fifths of the charging time.
    """
    if not np.isnan(edges[edges.size - 1]):
        raise ValueError("_charge_all takes edges_with_sentinel(edges)")
    if n == 0:
        return
    n_days = float(month_of_day.size - 1)
    cur = np.uint64(first[0])
    acc_direct, acc_rate, acc_opened = direct[cur], rate[cur + _ONE], opened[cur]
    edge_after = edges[cur + _ONE]
    for i in range(n):
        f = np.uint64(first[i])
        if f != cur:  # a new run: store the last run's sums, load this one's
            direct[cur], rate[cur + _ONE], opened[cur] = acc_direct, acc_rate, acc_opened
            cur = f
            acc_direct, acc_rate, acc_opened = direct[cur], rate[cur + _ONE], opened[cur]
            edge_after = edges[cur + _ONE]
        s, c = start[i], cost[i]
        end = s + length[i]
        last = np.uint64(month_of_day[np.uint64(min(end * 7.0, n_days))])
        # Ends on a month's first midnight, which end * 7 rounded to just below
        # (never past the horizon: there the next boundary is NaN).
        last += np.uint64(end >= edges[last + _ONE])
        acc_direct += c * (edge_after - s)
        acc_rate += c
        acc_opened += 1
        part = c * (end - edges[last])
        if last == cur:
            acc_direct += part
            acc_opened -= 1
        else:
            direct[last] += part
            opened[last] -= 1
        if last == cur + _ONE:
            acc_rate -= c
        else:
            rate[last] -= c
    direct[cur], rate[cur + _ONE], opened[cur] = acc_direct, acc_rate, acc_opened


@njit(cache=True, nogil=True)
def _starting_placements(
    rng, length_law, cost_law, t0, start_month, extend, elapsed, planned, known_cost, batch,
    year_edges, extended,
):  # fmt: skip
    """Draw a service's starting placements into ``batch``; returns how many.

    ``length_law`` is (family, p1, p2), ``cost_law`` as for :func:`cost_power_tail`;
    ``rng`` is the generator's state record (the draws run on its words as values).
    ``batch`` is (first month, start, length scale, length power, cost scale,
    cost power, high-cost flag) per placement, lengths and costs as scale *
    exp(power) (see :func:`exp_scale`). A planned end that is extended adds one
    to ``extended`` in the financial year it falls in (``year_edges`` in weeks).
    A known weekly cost counts as high-cost from the tail's median up. The
    per-placement draws are split from
    :func:`simulate_placements` into this and :func:`_new_placements` because
    numba compiles inlined code faster in small functions.
    """
    fam, p1, p2 = length_law
    first, start, length, length_power, cost, cost_pow, tail = batch
    st = _words(rng)  # the state as values (see "the state as values" above)
    steady = drawn = normals = 0  # steady-state lengths and costs drawn, normals among the costs
    # A length given directly has power 0; for Weibull the powers are taken from raw
    # variates below, and a raw 1 gives exactly log(1) / k = 0.
    no_power = 1.0 if fam == WEIBULL else 0.0
    for n in range(elapsed.size):
        first[n], start[n] = start_month, t0
        length_power[n] = no_power
        if planned[n] >= 0.0 or elapsed[n] >= 0.0:
            # A snapshot's placement (rare): drawn on the record, which counts its draws.
            _put(rng, st)
            if planned[n] >= 0.0:
                length[n] = planned[n]
                if _uniform(rng) < extend:
                    length[n] += sample_remaining(rng, fam, p1, p2, elapsed[n] + planned[n])
                    _count_in_year(t0 + planned[n], year_edges, extended)
            else:
                length[n] = sample_remaining(rng, fam, p1, p2, elapsed[n])
            st = _words(rng)
        else:
            length[n], length_power[n], st = steady_state_parts_v(rng, st, fam, p1, p2)
            steady += 1
        if known_cost[n] > 0.0:
            cost[n], cost_pow[n] = known_cost[n], 0.0
            tail[n] = cost_law[2] > 0.0 and math.log(known_cost[n]) >= cost_law[3]
        else:
            cost[n] = 1.0
            cost_pow[n], tail[n], drew, st = cost_power_tail_v(rng, st, cost_law)
            drawn += 1
            normals += drew
    _put(rng, st)
    uniforms = steady + (drawn if cost_law[2] > 0.0 else 0)
    _tally(rng, uniforms, normals, steady_kind(fam, p2), steady)
    if fam == WEIBULL:
        weibull_powers(length_power, 0, elapsed.size, p1)
    return elapsed.size


@njit(cache=True, nogil=True, inline="always")
def _count_in_year(t, year_edges, counts):
    """Add one to ``counts[y]`` for the financial year y that week ``t`` falls in (if any)."""
    for y in range(counts.size):
        if year_edges[y] <= t < year_edges[y + 1]:
            counts[y] += 1


@njit(cache=True, nogil=True)
def _count_high_cost(start, length, tail, n, year_edges, counts):
    """Add each high-cost placement to ``counts[y]`` for every financial year it is open in."""
    for i in range(n):
        if tail[i]:
            end = start[i] + length[i]
            for y in range(counts.size):
                if start[i] < year_edges[y + 1] and end > year_edges[y]:
                    counts[y] += 1


@njit(cache=True, nogil=True)
def _new_placements(rng, length_law, cost_law, edges, arrivals, batch, n):
    """Draw a service's new placements, ``arrivals[m]`` in month m, into ``batch`` from ``n`` on.

    Arguments as for :func:`_starting_placements`. Returns the batch's new size.
    The draws run on the state as values; the position is unsigned, so numba
    skips the negative-index wraparound it otherwise adds to each of the seven
    stores (about 0.7 ns a placement).
    """
    fam, p1, p2 = length_law
    first, start, length, length_power, cost, cost_pow, tail = batch
    n_in = n
    i = np.uint64(n)
    st = _words(rng)
    normals = 0  # of the costs
    for m in range(arrivals.size):
        width = edges[m + 1] - edges[m]
        for _ in range(arrivals[m]):
            u, st = _uniform_v(st)
            first[i], start[i] = m, edges[m] + u * width
            length[i], length_power[i], st = length_parts_v(rng, st, fam, p1, p2)
            cost[i] = 1.0
            cost_pow[i], tail[i], drew, st = cost_power_tail_v(rng, st, cost_law)
            normals += drew
            i += _ONE
    _put(rng, st)
    n = np.int64(i)
    new = n - n_in
    uniforms = new + (new if cost_law[2] > 0.0 else 0)  # the start, and the tail's draw
    _tally(rng, uniforms, normals, length_kind(fam, p1, p2), new)
    if fam == WEIBULL:
        weibull_powers(length_power, n_in, n, p1)
    return n


@njit(cache=True, nogil=True)
def _moved_in(rng, length_law, cost_law, month_of_day, p, moved, n_moved, batch, age, came, n):
    """Add the placements that moved into service ``p`` to ``batch`` from ``n`` on.

    Each starts on its move date with a length and weekly cost drawn from this
    service's laws, as a new placement here would. Returns the batch's new size.
    """
    fam, p1, p2 = length_law
    first, start, length, length_power, cost, cost_pow, tail = batch
    moved_dest, moved_start, moved_age, moved_came = moved
    n_days = month_of_day.size - 1
    n_in = n
    for j in range(n_moved):
        if moved_dest[j] == p:
            start[n] = moved_start[j]
            age[n] = moved_age[j]  # the child's age in weeks on the move date (-1: unknown)
            came[n] = moved_came[j]  # came from a children's service at its leaving age
            first[n] = month_of_day[int(min(moved_start[j] * 7.0, n_days))]
            length[n], length_power[n] = _length_parts_call(rng, fam, p1, p2)
            cost[n] = 1.0
            cost_pow[n], tail[n] = cost_power_tail(rng, cost_law)
            n += 1
    if fam == WEIBULL:
        weibull_powers(length_power, n_in, n, p1)
    return n


@njit(cache=True, nogil=True, inline="always")
def _pick_v(st, weights, total):
    """A destination drawn in proportion to ``weights`` (their sum ``total``), on state values.

    Returns (destination, next state); the caller counts its uniform (:func:`_pick` does).
    """
    u, st = _uniform_v(st)
    pick = u * total
    chosen = -1
    for q in range(weights.size):
        if weights[q] > 0.0:
            chosen = q  # the last one with a weight, should rounding overshoot
            if pick < weights[q]:
                break
            pick -= weights[q]
    return chosen, st


@njit(cache=True, nogil=True, inline="always")
def _pick(rng, weights, total):
    """A destination drawn in proportion to ``weights`` (their sum ``total``); counts its uniform."""
    chosen, st = _pick_v(_words(rng), weights, total)
    _put(rng, st)
    rng.n_uniform += 1
    return chosen


@njit(cache=True, nogil=True)
def _draw_ages(rng, edges, cdf, age, first, stop):
    """Ages in weeks for placements ``first:stop`` with none yet (-1): a band, then uniform in it."""
    st = _words(rng)  # the state as values, in registers through the loop
    drawn = 0
    for i in range(first, stop):
        if age[i] >= 0.0:
            continue
        drawn += 2
        u, st = _uniform_v(st)
        # The first band whose cumulative share passes u: the bands below it,
        # counted without a branch (the cumulative shares never decrease), since
        # a search's exit was mispredicted about once a placement.
        b = 0
        for j in range(cdf.size - 1):
            b += u >= cdf[j]
        v, st = _uniform_v(st)
        age[i] = edges[b] + v * (edges[b + 1] - edges[b])
    _put(rng, st)
    rng.n_uniform += drawn  # counted once after the loop (the same total)


@njit(cache=True, nogil=True)
def _leave(rng, rates, leave, onward, horizon, start, length, age, came, n, moved, n_moved, work):
    """End placements that move to another service or age out first; note where they go.

    Each of the ``n`` placements moves at the total rate ``rates.sum()`` (per
    week) while open: an exponential time to the move. With ``leave > 0`` it also
    ends when the child reaches that age (``age`` in weeks at the placement's
    start); a share ``onward[q]`` of those leaving then continue in service q
    that day. Whichever comes first (move, leaving age, or the placement's own
    end) ends it; a move or a continuation inside the horizon is appended to
    the ``moved`` lists (destination, date, age, and whether the young person
    came from a children's service at its leaving age: ``came``, or this
    continuation). Returns the new number of them. Draws nothing for a service
    with neither. ``work`` (int64[n] or longer) is scratch space.
    """
    moved_dest, moved_start, moved_age, moved_came = moved
    total, share = rates.sum(), onward.sum()
    if total <= 0.0 and leave <= 0.0:
        return n_moved
    if total <= 0.0:
        return _age_out(leave, onward, share, horizon, start, length, age, came, n, moved, n_moved,
                        rng, work)  # fmt: skip
    st = _words(rng)  # the state as values, in registers through the loop
    uniforms = 0
    for i in range(n):
        # The earliest of the placement's own end, the move and the leaving
        # age, chosen without branches (the last is a coin toss to the CPU).
        e, st = _exponential_v(rng, st)
        wait = e / total
        end = min(wait, length[i])
        event = 1 if wait < length[i] else 0
        left = leave - age[i]
        aged = leave > 0.0 and left < end
        end = max(left, 0.0) if aged else end
        event = 2 if aged else event
        if event == 0:
            continue
        length[i] = end
        if start[i] + end >= horizon:
            continue
        if event == 1:
            q, st = _pick_v(st, rates, total)
            uniforms += 1
        elif share > 0.0:
            u, st = _uniform_v(st)
            uniforms += 1
            if u >= share:
                continue  # aged out, and leaves care
            q, st = _pick_v(st, onward, share)
            uniforms += 1
        else:
            continue  # aged out, and leaves care
        moved_dest[n_moved] = q
        moved_start[n_moved] = start[i] + end
        moved_age[n_moved] = age[i] + end if age[i] >= 0.0 else -1.0
        moved_came[n_moved] = came[i] or event == 2
        n_moved += 1
    _put(rng, st)
    rng.n_exponential += n  # one wait for every placement
    rng.n_uniform += uniforms
    return n_moved


@njit(cache=True, nogil=True)
def _age_out(leave, onward, share, horizon, start, length, age, came, n, moved, n_moved, rng, work):
    """:func:`_leave` for a service with ageing and no moves: the same ends, draws and order.

    Whether a placement reaches the leaving age before its own end is a coin
    toss to the CPU (a branch on it is often mispredicted), so
    the lengths are cut without branches and the placements cut are listed in
    ``work``; only those are then looked at again, in order, drawing who
    continues exactly as :func:`_leave` would (it draws nothing per placement
    otherwise). ``leave`` > 0 and ``share`` = ``onward.sum()``.
    """
    moved_dest, moved_start, moved_age, moved_came = moved
    cut = 0
    for i in range(n):
        left = leave - age[i]
        ends = left < length[i]
        length[i] = max(left, 0.0) if ends else length[i]
        work[cut] = i
        cut += ends
    for j in range(cut):
        i = work[j]
        end = length[i]
        if start[i] + end >= horizon or share <= 0.0:
            continue
        if _uniform(rng) >= share:
            continue  # aged out, and leaves care
        moved_dest[n_moved] = _pick(rng, onward, share)
        moved_start[n_moved] = start[i] + end
        moved_age[n_moved] = age[i] + end if age[i] >= 0.0 else -1.0
        moved_came[n_moved] = True  # continuing from a children's service at its leaving age
        n_moved += 1
    return n_moved


@njit(cache=True, nogil=True)
def _charge_came(
    start, length, cost, first, came, lo, n, edges, month_of_day, direct, rate, opened, spend,
    caseload,
):  # fmt: skip
    """Charge again, on their own, the placements that came from a children's service.

    Only placements ``lo:n`` (those that moved in) can have come; they are
    charged in the same order as a scan of all ``n`` would. Reuses the service's
    accumulators (``direct``, ``rate``, ``opened``) once its own spend is stored;
    ``spend`` and ``caseload`` are this service-draw's rows.
    """
    direct[:] = 0.0
    rate[:] = 0.0
    opened[:] = 0
    for i in range(lo, n):
        if came[i]:
            _charge(
                start[i], start[i] + length[i], cost[i], first[i],
                edges, month_of_day, direct, rate, opened,
            )  # fmt: skip
    weekly, open_now = 0.0, 0
    for m in range(spend.size):
        weekly += rate[m]
        open_now += opened[m]
        spend[m] = direct[m] + weekly * (edges[m + 1] - edges[m])
        caseload[m] = open_now


@njit(cache=True, nogil=True)
def sum_rows(by_service, members, offsets, out):
    """``out[:, g]`` = the sum of rows ``members[offsets[g]:offsets[g + 1]]`` of ``by_service``.

    The result rows (departments, the total) of :func:`simulator.model.equations.add_rows`:
    each row's first member copied, then the others added one by one, in order,
    as numpy's row-by-row version does (the same sums: identical results). One
    pass over the draws instead of a strided numpy operation per row and member:
    a sixth of the time.

    Parameters
    ----------
    by_service : array[n, S, K]
        Any per-service quantity, K values per service (months or years).
    members, offsets : int64[...], int64[G + 1]
        Row g adds the services ``members[offsets[g]:offsets[g + 1]]``.
    out : array[n, G, K]
        Filled in place.
    """
    n, _, k = by_service.shape
    for d in range(n):
        for g in range(offsets.size - 1):
            first = members[offsets[g]]
            for j in range(k):
                out[d, g, j] = by_service[d, first, j]
            for q in range(offsets[g] + 1, offsets[g + 1]):
                s = members[q]
                for j in range(k):
                    out[d, g, j] += by_service[d, s, j]


@njit(cache=True, nogil=True)
def simulate_placements(
    rng,
    edges,
    month_of_day,
    start_month,
    family,
    len_p1,
    len_p2,
    arrivals,
    init_offsets,
    init_elapsed,
    init_cost,
    init_planned,
    extend_prob,
    cost_mu,
    cost_sigma,
    tail_share,
    tail_mu,
    tail_sigma,
    spend,
    caseload,
    counts,
    order,
    move_rate,
    leave_weeks,
    age_edges,
    entry_cdf,
    open_cdf,
    onward,
    year_edges,
    high_cost,
    extended,
    came_spend,
    came_caseload,
):
    """Simulate every placement of every placement service for a chunk of draws.

    Parameters
    ----------
    rng : STATE[1]
        The chunk's kernel random state (:func:`seed_state` of
        the chunk's generator); advanced in place, and its counters of
        variates drawn are added to ``counts``.
    edges : float64[M + 1]
        Month boundaries, weeks since the horizon start.
    month_of_day : int64[n_days + 1]
        Month index of each whole day since the horizon start; M for the day
        after the horizon (month boundaries fall on whole days).
    start_month : int
        The simulation starts at the beginning of this month (0 normally; after
        the months fixed at actuals otherwise). Starting placements are open from
        then; ``arrivals`` must be zero before it.
    family : int64[P]
        Length family code of each placement service.
    len_p1, len_p2 : float64[D, P]
        Length parameters per draw (see the module docstring).
    arrivals : int64[D, P, M]
        New placements starting in each month.
    init_offsets : int64[P + 1]
        Service p's starting placements are ``init_offsets[p]:init_offsets[p+1]``.
    init_elapsed : float64[N0]
        Weeks each starting placement has lasted; negative means "draw from the
        steady state".
    init_cost : float64[N0]
        Known weekly cost at price-base prices (GBP); 0 means "draw one".
    init_planned : float64[N0]
        Weeks from the start to a planned end date; negative means none. With
        probability ``extend_prob`` the placement carries on past it, for a length
        drawn conditioned on lasting that long; otherwise it ends then.
    extend_prob : float64[D, P]
        Chance that a placement with a planned end is extended.
    cost_mu, tail_share, tail_mu : float64[D, P]
        Log-mean of the body's weekly cost, share in the high-cost tail, log-mean of the tail.
    cost_sigma, tail_sigma : float64[P]
        Log-scale spread of body and tail costs.
    spend : float64[D, P, M]
        Output: gross spend in GBP at price-base prices.
    caseload : int32[D, P, M]
        Output: placements open at each month end.
    counts : int64[N_COUNTERS]
        Output, added to: random variates drawn, by kind.
    order : int64[P]
        The order the services are simulated in: every service before those its
        placements move to (``arange(P)`` without moves).
    move_rate : float64[D, P, P]
        Rate per week at which an open placement of service p moves to service
        q (all zero without moves; then nothing extra is drawn).
    leave_weeks : float64[P]
        Age in weeks at which service p's placements end (0: no ageing).
    age_edges : float64[P, B + 1]
        Edges of the age bands in weeks; ``entry_cdf`` and ``open_cdf``
        (float64[P, B]) the cumulative shares of new and starting placements in
        them (an age is drawn only for services with ageing).
    onward : float64[P, P]
        Share of service p's placements ending at the leaving age that continue
        in service q.
    year_edges : float64[Y + 1]
        Financial-year boundaries, weeks since the horizon start.
    high_cost : int32[D, P, Y]
        Output: high-cost placements open at some time in each financial year.
    extended : int32[D, P, Y]
        Output: snapshot placements whose planned end, in that year, was extended.
    came_spend, came_caseload : float64[D, P, M], int32[D, P, M]
        Output: the part of ``spend`` and ``caseload`` of placements that came
        from a children's service at its leaving age (directly or by later moves).
    """
    rng = rng[0]  # the generator's state record, passed on by reference
    n_draws, n_services = len_p1.shape
    n_months = edges.size - 1
    t0 = edges[start_month]
    direct = np.zeros(n_months + 1)
    rate = np.zeros(n_months + 1)
    opened = np.zeros(n_months + 1, dtype=np.int64)
    # One service-draw's placements at a time: their start, first month, and
    # length and weekly cost as scale * exp(power).
    most = 0
    moving = (move_rate.max() > 0.0 if move_rate.size else False) or (
        leave_weeks.max() > 0.0 if leave_weeks.size else False
    )
    for d in range(n_draws):
        everyone = 0
        for p in range(n_services):
            here = init_offsets[p + 1] - init_offsets[p] + arrivals[d, p].sum()
            most = max(most, here)
            everyone += here
        if moving:
            # A service's episodes are its own placements plus at most one per
            # placement of every other service (moves never come back round).
            most = max(most, everyone)
    # Moves of the current draw: destination and date (weeks).
    room = most * max(n_services - 1, 1) if moving else 0
    moved = (
        np.empty(room, dtype=np.int64),
        np.empty(room),
        np.empty(room),
        np.empty(room, np.bool_),
    )
    age = np.empty(most if moving else 0)
    came = np.zeros(most if moving else 0, dtype=np.bool_)
    horizon = edges[n_months]
    charge_edges = edges_with_sentinel(edges)
    first = np.empty(most, dtype=np.int64)
    start, length, length_power = np.empty(most), np.empty(most), np.empty(most)
    cost, cost_pow = np.empty(most), np.empty(most)
    batch = (first, start, length, length_power, cost, cost_pow, np.zeros(most, dtype=np.bool_))
    work = np.empty(most, dtype=np.int64)
    for d in range(n_draws):
        n_moved = 0
        for k in range(n_services):
            p = order[k]
            length_law = (family[p], len_p1[d, p], len_p2[d, p])
            cost_law = (
                cost_mu[d, p],
                cost_sigma[p],
                tail_share[d, p],
                tail_mu[d, p],
                tail_sigma[p],
            )
            own = slice(init_offsets[p], init_offsets[p + 1])
            n = _starting_placements(
                rng, length_law, cost_law, t0, start_month, extend_prob[d, p],
                init_elapsed[own], init_planned[own], init_cost[own], batch,
                year_edges, extended[d, p],
            )  # fmt: skip
            n_start = n
            n = _new_placements(rng, length_law, cost_law, edges, arrivals[d, p], batch, n)
            n_own = n  # the placements after these moved in
            if moving:
                for i in range(n):  # one plain pass over both arrays
                    age[i] = -1.0  # unknown, so drawn below where the service has ageing
                    came[i] = False
                n = _moved_in(
                    rng, length_law, cost_law, month_of_day, p, moved, n_moved, batch, age, came,
                    n,
                )  # fmt: skip
            if family[p] == LOGNORMAL or family[p] == WEIBULL:
                exp_scale(length, length_power, work, n)  # else every power is 0: a no-op
            exp_scale(cost, cost_pow, work, n)
            if moving:
                if leave_weeks[p] > 0.0:
                    _draw_ages(rng, age_edges[p], open_cdf[p], age, 0, n_start)
                    _draw_ages(rng, age_edges[p], entry_cdf[p], age, n_start, n)
                n_moved = _leave(
                    rng, move_rate[d, p], leave_weeks[p], onward[p], horizon, start, length,
                    age, came, n, moved, n_moved, work,
                )  # fmt: skip
            if tail_share[d, p] > 0.0:  # else no placement is flagged high-cost
                _count_high_cost(start, length, batch[6], n, year_edges, high_cost[d, p])
            direct[:] = 0.0
            rate[:] = 0.0
            opened[:] = 0
            _charge_all(
                start, length, cost, first, n, charge_edges, month_of_day, direct, rate, opened
            )
            weekly, open_now = 0.0, 0
            for m in range(n_months):
                weekly += rate[m]
                open_now += opened[m]
                spend[d, p, m] = direct[m] + weekly * (edges[m + 1] - edges[m])
                caseload[d, p, m] = open_now
            if moving and came[n_own:n].any():  # only placements that moved in came
                _charge_came(
                    start, length, cost, first, came, n_own, n, edges, month_of_day, direct, rate,
                    opened, came_spend[d, p], came_caseload[d, p],
                )  # fmt: skip
    counts[N_UNIFORM] += rng.n_uniform
    counts[N_NORMAL] += rng.n_normal
    counts[N_EXPONENTIAL] += rng.n_exponential
    counts[N_GAMMA] += rng.n_gamma
