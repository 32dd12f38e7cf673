"""The samplers on the state as values draw exactly what the record's samplers draw.

Where placements are drawn, the kernel keeps its generator's four state words in
registers (``kernels._uniform_v`` and the rest take the words and return the next
ones) and falls back on the record's samplers for the ziggurats' rare paths. Each
must give the same variates, in the same order, leaving the same state, as the
record's sampler it copies; and the model's draws on values (lengths, costs) the
same as the called copies the rare kernel paths use. ``test_kernel_replay.py``
checks the whole kernel, counters included, against its plain-Python replay.
"""

from __future__ import annotations

import numpy as np
import pytest
from numba import njit

from simulator.model import kernels

WORDS = [0x9E3779B97F4A7C15, 0xBF58476D1CE4E5B9, 0x94D049BB133111EB, 12345]
KINDS = ("uniform", "normal", "exponential", "gamma")
N = 200_000  # enough for each ziggurat's tail (about 1 in 4,000 and 2,200) to be taken


@njit(cache=True)
def _on_values(state, kind, shape, out):
    s = state[0]
    st = kernels._words(s)
    for i in range(out.size):
        if kind == 0:
            out[i], st = kernels._uniform_v(st)
        elif kind == 1:
            out[i], st = kernels._normal_v(s, st)
        elif kind == 2:
            out[i], st = kernels._exponential_v(s, st)
        else:
            out[i], st = kernels._gamma_v(s, st, shape)
    kernels._put(s, st)


@njit(cache=True)
def _on_record(state, kind, shape, out):
    s = state[0]
    for i in range(out.size):
        if kind == 0:
            out[i] = kernels.uniform(s)
        elif kind == 1:
            out[i] = kernels.normal(s)
        elif kind == 2:
            out[i] = kernels.exponential(s)
        else:
            out[i] = kernels.gamma_inline(s, shape)


def _both(kind: str, shape: float = 1.0, n: int = N) -> tuple[np.ndarray, np.ndarray, bytes, bytes]:
    code = KINDS.index(kind)
    values, record = kernels.state_from(WORDS), kernels.state_from(WORDS)
    a, b = np.empty(n), np.empty(n)
    _on_values(values, code, shape, a)
    _on_record(record, code, shape, b)
    return a, b, values.tobytes(), record.tobytes()


@pytest.mark.parametrize("kind", ["uniform", "normal", "exponential"])
def test_each_sampler_on_values_draws_what_the_record_draws(kind):
    a, b, state_a, state_b = _both(kind)
    assert np.array_equal(a, b)
    assert state_a == state_b  # the same words drawn, the rare paths included


def test_the_rare_paths_were_taken():
    # The normal's tail beyond the ziggurat's base, and the exponential's: both
    # run on the record and must hand the state back.
    normal, *_ = _both("normal")
    exponential, *_ = _both("exponential")
    assert np.sum(np.abs(normal) > kernels._NORMAL_R) > 10
    assert np.sum(exponential > kernels._EXP_R) > 10


@pytest.mark.parametrize("shape", [0.45, 1.0, 1.5, 1.0 + 1.0 / 0.9, 2.0, 7.0])
def test_gamma_on_values_draws_what_the_record_draws(shape):
    a, b, state_a, state_b = _both("gamma", shape, 50_000)
    assert np.array_equal(a, b)
    assert state_a == state_b


@njit(cache=True)
def _lengths_on_values(state, family, p1, p2, scale, power):
    s = state[0]
    st = kernels._words(s)
    for i in range(scale.size):
        scale[i], power[i], st = kernels.length_parts_v(s, st, family, p1, p2)
    kernels._put(s, st)


@njit(cache=True)
def _lengths_called(state, family, p1, p2, scale, power):
    s = state[0]
    for i in range(scale.size):
        scale[i], power[i] = kernels._length_parts_call(s, family, p1, p2)


@pytest.mark.parametrize("family", sorted(kernels.FAMILY_CODES))
def test_the_called_length_draw_is_the_one_on_values(family):
    # Moves draw lengths with the called copy (quicker to compile); it must draw
    # the same variates and give the same (scale, power) as new placements' draw.
    code = kernels.FAMILY_CODES[family]
    p1, p2 = {"lognormal": (4.0, 0.8), "gamma": (0.7, 60.0)}.get(family, (0.9, 80.0))
    values, called = kernels.state_from(WORDS), kernels.state_from(WORDS)
    out = [np.empty(5_000) for _ in range(4)]
    _lengths_on_values(values, code, p1, p2, out[0], out[1])
    _lengths_called(called, code, p1, p2, out[2], out[3])
    assert np.array_equal(out[0], out[2]) and np.array_equal(out[1], out[3])
    assert values.tobytes()[:32] == called.tobytes()[:32]  # the same four words (counters aside)


@njit(cache=True)
def _costs_on_values(state, law, power, tail, normals):
    s = state[0]
    st = kernels._words(s)
    for i in range(power.size):
        power[i], tail[i], normals[i], st = kernels.cost_power_tail_v(s, st, law)
    kernels._put(s, st)


@njit(cache=True)
def _costs_on_record(state, law, power, tail):
    s = state[0]
    for i in range(power.size):
        power[i], tail[i] = kernels.cost_power_tail(s, law)


@pytest.mark.parametrize(
    "law",
    [(6.0, 0.3, 0.0, 0.0, 0.0), (6.0, 0.3, 0.12, 9.3, 0.2), (6.0, 0.0, 0.2, 9.3, 0.2)],
    ids=["body only", "with a tail", "fixed body, spread tail"],
)
def test_costs_on_values_draw_what_the_record_draws(law):
    values, record = kernels.state_from(WORDS), kernels.state_from(WORDS)
    n = 20_000
    power, tail, normals = np.empty(n), np.empty(n, np.bool_), np.empty(n, np.int64)
    power_r, tail_r = np.empty(n), np.empty(n, np.bool_)
    _costs_on_values(values, law, power, tail, normals)
    _costs_on_record(record, law, power_r, tail_r)
    assert np.array_equal(power, power_r) and np.array_equal(tail, tail_r)
    assert values.tobytes()[:32] == record.tobytes()[:32]
    # The normals it reports are those the record counted.
    assert normals.sum() == record[0]["n_normal"]
