"""The kernels' random numbers: xoshiro256** with ziggurat normal and exponential variates.

Why not draw from the chunk's ``numpy.random.Generator`` inside the kernel, as
numba allows? numba calls the Generator's bit generator through a function
pointer for every variate: about 4.9 ns a uniform and 3.7 ns a normal on this
machine, which was 40% of the kernel's time. The generator here is compiled
into the kernel itself: about 1 ns for 64 random bits, 2 ns for a normal.

Reproducibility is unchanged. Each chunk still has its own
``numpy.random.Generator`` from ``SeedSequence(seed).spawn(...)``; the kernel's
state is four words drawn from it (:func:`seed_state`), so results still depend
only on the seed and the chunk, never on the number of threads.

The algorithms are standard and exact:

- xoshiro256** (Blackman and Vigna, 2018): 256 bits of state, period 2**256 - 1;
- uniform on [0, 1): the top 53 bits times 2**-53;
- normal and exponential: the 256-layer ziggurat of Marsaglia and Tsang (2000),
  with the layer index and the position taken from separate bits of one 64-bit
  word (as numpy does) and Marsaglia's exact method for the normal tail;
- gamma: Marsaglia and Tsang (2000) for shape >= 1, and
  Gamma(k) = Gamma(k + 1) * U**(1/k) below 1.

``tests/test_rng.py`` checks each against scipy's distributions.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

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


def seed_state(rng: np.random.Generator) -> np.ndarray:
    """A kernel state (an array of one :data:`STATE` record) drawn from a chunk's generator."""
    words = rng.bit_generator.random_raw(4).astype(np.uint64)
    if not words.any():  # the one state xoshiro cannot leave; chance 2**-256
        words[0] = 1
    state = np.zeros(1, dtype=STATE)
    for i, word in enumerate(words):
        state[0][f"s{i}"] = word
    return state


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


# The samplers above are inlined where the kernel draws per placement (and in
# the gamma sampler). Rarely taken paths use these calls instead:
# inlining the ziggurat at every call site made the first compilation of the
# kernel several times as long.
@njit(cache=True, nogil=True)
def normal_call(s):
    """:func:`normal`, as a call."""
    return normal(s)


@njit(cache=True, nogil=True)
def exponential_call(s):
    """:func:`exponential`, as a call."""
    return exponential(s)


@njit(cache=True, nogil=True)
def gamma(s, shape):
    """A standard gamma variate (scale 1) of the given shape > 0."""
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
