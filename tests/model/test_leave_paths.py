"""The kernel's ageing and moves steps against their earlier, branchy form, bit for bit.

``_draw_ages`` (bands counted without a branch), ``_leave`` and ``_age_out``
(ends chosen without branches; for a service without moves, the cut placements
listed first and only they looked at again) and ``_charge_came`` (only the
placements that moved in scanned) were rewritten for speed with the promise
that they give the same numbers from the same random variates in the same
order. The references below are the straightforward versions they replaced,
compiled from the same random-number primitives; every output array, the
generator's state afterwards and its counters must agree exactly, over many
random cases with the awkward values forced in (ages exactly at the leaving
age or past it, unknown ages, zero-share bands, no one continuing).
"""

from __future__ import annotations

import numpy as np
import pytest
from numba import njit

from simulator.model import kernels as k


@njit(cache=True)
def _draw_ages_reference(rng, edges, cdf, age, first, stop):
    for i in range(first, stop):
        if age[i] >= 0.0:
            continue
        u = k._uniform(rng)
        b = 0
        while b < cdf.size - 1 and u >= cdf[b]:
            b += 1
        age[i] = edges[b] + k._uniform(rng) * (edges[b + 1] - edges[b])


@njit(cache=True)
def _leave_reference(rng, rates, leave, onward, horizon, start, length, age, came, n, moved, m):
    moved_dest, moved_start, moved_age, moved_came = moved
    total, share = rates.sum(), onward.sum()
    if total <= 0.0 and leave <= 0.0:
        return m
    for i in range(n):
        end, event = length[i], 0
        if total > 0.0:
            wait = k._exponential(rng) / total
            if wait < end:
                end, event = wait, 1
        if leave > 0.0 and leave - age[i] < end:
            end, event = max(leave - age[i], 0.0), 2
        if event == 0:
            continue
        length[i] = end
        if start[i] + end >= horizon:
            continue
        if event == 1:
            q = k._pick(rng, rates, total)
        elif share > 0.0 and k._uniform(rng) < share:
            q = k._pick(rng, onward, share)
        else:
            continue
        moved_dest[m] = q
        moved_start[m] = start[i] + end
        moved_age[m] = age[i] + end if age[i] >= 0.0 else -1.0
        moved_came[m] = came[i] or event == 2
        m += 1
    return m


def _state(seed: int) -> np.ndarray:
    return k.seed_state(np.random.default_rng(seed))


def _cdf(rng: np.random.Generator, bands: int) -> tuple[np.ndarray, np.ndarray]:
    """Age-band edges (weeks) and a cumulative share as the plan builds one, zero bands included."""
    weight = rng.random(bands) * (rng.random(bands) < 0.7)
    weight[rng.integers(bands)] += 0.5
    cdf = np.cumsum(weight) / weight.sum()
    cdf[-1] = 1.0
    edges = np.concatenate([[0.0], np.cumsum(rng.uniform(10.0, 300.0, bands))])
    return edges, cdf


@pytest.mark.parametrize("seed", range(40))
def test_ages_are_drawn_as_the_band_search_drew_them(seed):
    rng = np.random.default_rng(seed)
    edges, cdf = _cdf(rng, int(rng.integers(1, 7)))
    n = 500
    age = np.where(rng.random(n) < 0.2, rng.uniform(0.0, 900.0, n), -1.0)
    ages = {}
    states = {}
    for name, draw in (("new", k._draw_ages), ("reference", _draw_ages_reference)):
        state, ages[name] = _state(seed), age.copy()
        draw(state[0], edges, cdf, ages[name], 0, 200)  # the record, passed by reference
        draw(state[0], edges, cdf, ages[name], 200, n)
        states[name] = state
    np.testing.assert_array_equal(ages["new"], ages["reference"])
    assert states["new"].tobytes() == states["reference"].tobytes()  # words and counters


def _placements(rng: np.random.Generator, n: int, leave: float) -> dict:
    """Starts, lengths, ages (some unknown, at or past the leaving age) and came flags."""
    age = rng.uniform(0.0, leave * 1.1 if leave > 0 else 900.0, n)
    age[rng.random(n) < 0.1] = -1.0
    if leave > 0:
        age[rng.random(n) < 0.05] = leave
    length = rng.lognormal(4.0, 1.0, n)
    exact = rng.random(n) < 0.05  # the leaving age reached exactly at the placement's end
    length[exact & (age >= 0)] = (leave - age)[exact & (age >= 0)]
    return {
        "start": rng.uniform(-50.0, 200.0, n),
        "length": np.abs(length),
        "age": age,
        "came": rng.random(n) < 0.1,
    }


CASES = [  # (move rates to 3 services per week, leaving age in weeks, onward shares)
    ((0.0, 0.0, 0.0), 18 * 52.18, (0.0, 0.1, 0.2)),  # ageing only: _age_out
    ((0.0, 0.0, 0.0), 18 * 52.18, (0.0, 0.0, 0.0)),  # ageing, no one continuing
    ((0.0, 0.002, 0.001), 18 * 52.18, (0.0, 0.1, 0.0)),  # moves and ageing
    ((0.0, 0.003, 0.0), 0.0, (0.0, 0.0, 0.0)),  # moves only
    ((0.0, 0.0, 0.0), 0.0, (0.0, 0.0, 0.0)),  # neither: nothing drawn
]


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("case", CASES, ids=["ageing", "no_onward", "both", "moves", "neither"])
def test_leaving_ends_and_sends_on_as_the_branchy_loop_did(case, seed):
    rates, onward, leave = np.array(case[0]), np.array(case[2]), case[1]
    rng = np.random.default_rng(seed)
    n, room = 800, 800
    data = _placements(rng, n, leave)
    out = {}
    for name in ("new", "reference"):
        state = _state(seed)
        p = {key: v.copy() for key, v in data.items()}
        moved = (np.full(room, -7), np.zeros(room), np.zeros(room), np.zeros(room, np.bool_))
        args = (state[0], rates, leave, onward, 150.0, p["start"], p["length"], p["age"], p["came"])
        if name == "new":
            m = k._leave(*args, n, moved, 3, np.empty(n, dtype=np.int64))
        else:
            m = _leave_reference(*args, n, moved, 3)
        out[name] = (m, p["length"], moved, state.tobytes())
    new, ref = out["new"], out["reference"]
    assert new[0] == ref[0]
    np.testing.assert_array_equal(new[1], ref[1])
    for a, b in zip(new[2], ref[2], strict=True):
        np.testing.assert_array_equal(a[: ref[0]], b[: ref[0]])
    assert new[3] == ref[3]  # the same variates drawn: generator words and counters
    if case[1] > 0:
        assert ref[0] > 3 or not (onward.any() or rates.any())  # the case exercised sending on


def test_came_charges_only_the_placements_that_moved_in_and_all_of_them():
    rng = np.random.default_rng(5)
    months = 12
    edges = np.linspace(0.0, 52.0, months + 1)
    month_of_day = np.minimum(np.arange(365) * months // 364, months).astype(np.int64)
    n, lo = 400, 300
    start = rng.uniform(-20.0, 50.0, n)
    length = rng.exponential(30.0, n)
    cost = rng.uniform(100.0, 900.0, n)
    first = np.array([month_of_day[int(min(max(s, 0.0) * 7.0, 364))] for s in start])
    came = np.zeros(n, dtype=np.bool_)
    came[lo:] = rng.random(n - lo) < 0.4
    outs = []
    for first_scanned in (lo, 0):  # only the moved-in part, and everything
        spend, caseload = np.zeros(months), np.zeros(months, dtype=np.int32)
        acc = np.zeros(months + 1), np.zeros(months + 1), np.zeros(months + 1, dtype=np.int64)
        k._charge_came(
            start, length, cost, first, came, first_scanned, n, edges, month_of_day, *acc,
            spend, caseload,
        )  # fmt: skip
        outs.append((spend, caseload))
    np.testing.assert_array_equal(outs[0][0], outs[1][0])
    np.testing.assert_array_equal(outs[0][1], outs[1][1])
    assert outs[0][1].max() > 0
