"""A slow, plain-Python replay of ``kernels.simulate_placements``, variate for variate.

The replay takes the kernel's own arguments and its starting words and redoes the
kernel's work one placement at a time, with loops and no numba: which variates
are drawn for each placement and in what order, starting-caseload remaining
lengths (planned ends, extensions, steady state, lengths conditioned on the time
already lasted), the high-cost tail, arrival times, and then, month by month,
how many weeks each placement is charged for and whether it is open at the
month end.

Only the random-number primitives are shared with the kernel: uniform, normal,
exponential and gamma variates come from the kernel's own samplers, called from
Python on a private copy of the generator state (:class:`Stream`), so the replay
sees the very same numbers. Everything built on them is written out again here.

Lengths and costs are ``math.exp`` of their log where the kernel uses its
vectorised ``kernels.exp_scale``; the two agree to a few units in the last place
(see ``tests/test_kernel_replay.py``). Everywhere else the arithmetic is written
in the kernel's order, so its results are bit for bit the kernel's.
"""

from __future__ import annotations

import bisect
import math
from collections import Counter
from dataclasses import dataclass

import numpy as np

from simulator.model import kernels

DAYS_PER_WEEK = 7.0
FAMILY = {code: name for name, code in kernels.FAMILY_CODES.items()}


class Stream:
    """The kernel's random stream: its own samplers on a private copy of its state.

    ``counts`` tallies the variates drawn by kind, as the kernel's counters do (a
    gamma variate counts once, whatever its sampler drew inside); ``paths`` tallies
    which branch of each rejection sampler and start rule was taken, so a test can
    check that a case really exercises the branch it is meant to.
    """

    def __init__(self, words):
        self._state = kernels.state_from(words)
        self.counts: Counter[str] = Counter()
        self.paths: Counter[str] = Counter()

    def uniform(self) -> float:
        self.counts["uniform"] += 1
        return kernels.uniform(self._state[0])

    def normal(self) -> float:
        self.counts["normal"] += 1
        return kernels.normal(self._state[0])

    def exponential(self) -> float:
        self.counts["exponential"] += 1
        return kernels.exponential(self._state[0])

    def gamma(self, shape: float) -> float:
        self.counts["gamma"] += 1
        return kernels.gamma(self._state[0], shape)

    def words(self) -> list[int]:
        """The generator's four state words now."""
        return [int(self._state[0][f"s{i}"]) for i in range(4)]


def _log(x: float) -> float:
    # numba's math.log(0.0) is -inf where Python's raises: an elapsed time of 0
    # (and, once in 2**52 draws, an exponential variate of 0) relies on it.
    return math.log(x) if x > 0.0 else -math.inf


# ------------------------------------------------------------------ lengths


def fresh_length(rng: Stream, family: str, p1: float, p2: float) -> float:
    """Weeks a new placement lasts (``kernels.length_parts_v``)."""
    if family == "lognormal":
        return math.exp(p1 if p2 == 0.0 else p1 + p2 * rng.normal())
    if family == "gamma":
        return p2 * rng.gamma(p1)
    e = rng.exponential()
    if family == "weibull":
        return p2 * math.exp(_log(e) / p1)  # lambda * E ** (1/k), in the kernel's form
    return p1 * e


def steady_state_remaining(rng: Stream, family: str, p1: float, p2: float) -> float:
    """Remaining weeks of a placement from a steady-state caseload.

    A uniform fraction of a length-biased length: lognormal(mu + sigma**2, sigma),
    gamma(k + 1), lambda * gamma(1 + 1/k) ** (1/k) for a Weibull, gamma(2) for an
    exponential. The uniform is always drawn first.
    """
    u = rng.uniform()
    if family == "lognormal":
        if p2 == 0.0:
            return u * math.exp(p1)
        return u * math.exp(p1 + p2 * p2 + p2 * rng.normal())
    if family == "gamma":
        return u * p2 * rng.gamma(p1 + 1.0)
    if family == "weibull":
        return u * p2 * math.exp(_log(rng.gamma(1.0 + 1.0 / p1)) / p1)
    return u * p1 * rng.gamma(2.0)


def normal_above(rng: Stream, z0: float) -> float:
    """A standard normal conditioned on exceeding ``z0``."""
    if z0 < 0.45:
        rng.paths["normal above: plain rejection"] += 1
        while True:
            z = rng.normal()
            if z > z0:
                return z
    rng.paths["normal above: Robert's exponential proposal"] += 1
    alpha = 0.5 * (z0 + math.sqrt(z0 * z0 + 4.0))
    while True:
        x = z0 + rng.exponential() / alpha
        gap = x - alpha
        # numba squares with a multiply; Python's ** 2 would call pow.
        if rng.uniform() <= math.exp(-0.5 * (gap * gap)):
            return x


def gamma_past(rng: Stream, k: float, x: float) -> float:
    """How much longer a unit-scale gamma(k) lasts, given that it has lasted ``x``."""
    if x <= k:
        rng.paths["gamma past: redraw until longer"] += 1
        while True:
            g = rng.gamma(k)
            if g > x:
                return g - x
    if k >= 1.0:
        rng.paths["gamma past: exponential proposal, shape >= 1"] += 1
        rate = 1.0 - (k - 1.0) / x
        while True:
            y = rng.exponential() / rate
            accept = (1.0 + y / x) ** (k - 1.0) * math.exp(-(k - 1.0) * y / x)
            if rng.uniform() <= accept:
                return y
    rng.paths["gamma past: exponential proposal, shape < 1"] += 1
    while True:
        y = rng.exponential()
        if rng.uniform() <= (1.0 + y / x) ** (k - 1.0):
            return y


def remaining_after(rng: Stream, family: str, p1: float, p2: float, elapsed: float) -> float:
    """Remaining weeks of a placement that has lasted ``elapsed`` weeks (L given L > elapsed)."""
    elapsed = max(elapsed, 0.0)
    if family == "lognormal":
        if p2 == 0.0:
            return max(math.exp(p1) - elapsed, 0.0)  # every length is exp(mu): no draw
        z0 = (_log(elapsed) - p1) / p2
        return math.exp(p1 + p2 * normal_above(rng, z0)) - elapsed
    if family == "gamma":
        return p2 * gamma_past(rng, p1, elapsed / p2)
    if family == "weibull":
        # (L / lambda) ** k - (elapsed / lambda) ** k is a standard exponential.
        e = rng.exponential()
        x = elapsed / p2
        if x <= 1.0:
            rng.paths["weibull past: direct"] += 1
            return max(p2 * (x**p1 + e) ** (1.0 / p1) - elapsed, 0.0)
        rng.paths["weibull past: in logs"] += 1
        return elapsed * math.expm1(math.log1p(e * math.exp(-p1 * math.log(x))) / p1)
    return p1 * rng.exponential()  # memoryless


# ------------------------------------------------------------------ costs


def weekly_cost(rng: Stream, law: tuple) -> tuple[float, bool]:
    """A weekly cost and whether it came from the high-cost tail.

    The uniform that picks the tail is drawn only when the tail has a share; a
    spread of zero draws no normal.
    """
    mu, sigma, share, tail_mu, tail_sigma = law
    tail = share > 0.0 and rng.uniform() < share
    if tail:
        mu, sigma = tail_mu, tail_sigma
    return math.exp(mu if sigma == 0.0 else mu + sigma * rng.normal()), tail


# ------------------------------------------------------------------ placements


@dataclass
class Placement:
    """One placement of one service in one draw, as the replay drew it."""

    first_month: int  # the month it is first charged in
    start: float  # weeks since the horizon start
    length: float  # weeks
    weekly_cost: float  # GBP, price-base prices
    how: str  # how its length was found: "fresh", "steady state", "elapsed", "planned", ...
    tail: bool  # cost drawn from the high-cost tail

    @property
    def end(self) -> float:
        return self.start + self.length


def starting_placements(rng, law, cost_law, t0, start_month, extend, rows) -> list[Placement]:
    """The placements open at the start, in the order given, all from ``t0``."""
    family, p1, p2 = law
    out = []
    for elapsed, known_cost, planned in rows:
        if planned >= 0.0:
            # Ends at the planned date unless extended (the uniform is drawn even
            # when extension is impossible); an extension lasts as long as a
            # placement that has already lasted to the planned date.
            length, how = planned, "planned"
            if rng.uniform() < extend:
                length += remaining_after(rng, family, p1, p2, elapsed + planned)
                how = "planned, extended"
        elif elapsed < 0.0:
            length, how = steady_state_remaining(rng, family, p1, p2), "steady state"
        else:
            length, how = remaining_after(rng, family, p1, p2, elapsed), "elapsed"
        if known_cost > 0.0:
            cost, tail = known_cost, False
        else:
            cost, tail = weekly_cost(rng, cost_law)
        rng.paths[f"start: {how}"] += 1
        out.append(Placement(start_month, t0, length, cost, how, tail))
    return out


def new_placements(rng, law, cost_law, edges, arrivals) -> list[Placement]:
    """Arrivals month by month, each at a uniform time within its month."""
    out = []
    for m, count in enumerate(arrivals):
        for _ in range(count):
            start = edges[m] + rng.uniform() * (edges[m + 1] - edges[m])
            length = fresh_length(rng, *law)
            cost, tail = weekly_cost(rng, cost_law)
            out.append(Placement(m, start, length, cost, "fresh", tail))
    return out


# ------------------------------------------------------------------ months


def month_ended_in(end: float, first_days: list[int], n_days: int, edges: list[float]) -> int:
    """The month of the day on which a placement ending at ``end`` weeks ends.

    Months start on whole days (``first_days``); a placement that runs past the
    horizon ends in "month M", after the last. The day is ``end`` in days rounded
    down, in floating point, as the kernel finds it; when ``end * 7`` rounds to just
    below a month's first whole day (1 June: 61 / 7 * 7 < 61) but ``end`` is that
    month's edge in weeks, the placement ends in that month, as it does when the
    product comes out whole (1 May: 30 / 7 * 7 == 30.0). Either way a placement ending
    at midnight at the start of a month counts in the month before's month-end
    caseload. The replay follows the kernel.
    """
    day = math.floor(min(end * DAYS_PER_WEEK, n_days))
    month = bisect.bisect_right(first_days, day) - 1
    if month < len(edges) - 1 and end >= edges[month + 1]:
        month += 1  # ends exactly on a month's first midnight: the kernel corrects the rounding
    return month


def charge(placement: Placement, edges: list[float], first_days: list[int], spend, caseload):
    """Add a placement's cost for each month's weeks it is open, and its month-end counts."""
    n_months = len(edges) - 1
    ends_in = month_ended_in(placement.end, first_days, first_days[-1], edges)
    for m in range(n_months):
        weeks = min(placement.end, edges[m + 1]) - max(placement.start, edges[m])
        spend[m] += placement.weekly_cost * max(weeks, 0.0)
        caseload[m] += placement.first_month <= m < ends_in


# ------------------------------------------------------------------ the whole kernel


@dataclass
class Replay:
    """Everything the replay drew and charged."""

    batches: dict[tuple[int, int], list[Placement]]  # (draw, service) -> its placements
    spend: np.ndarray  # (D, P, M) GBP
    caseload: np.ndarray  # (D, P, M) open at month end
    counts: Counter  # variates drawn, by kind
    paths: Counter  # branches taken
    words: list[int]  # the generator's state after the last draw

    @property
    def placements(self) -> list[Placement]:
        return [q for batch in self.batches.values() for q in batch]


def replay(words, args: dict) -> Replay:
    """Replay ``kernels.simulate_placements`` from generator state ``words``.

    ``args`` are the kernel's other arguments by name (its outputs are not needed).
    Draws are the outer loop and services the inner, as in the kernel: the random
    stream runs through draw 0's services, then draw 1's, and so on; within a
    service-draw, the starting placements come first, then the arrivals month by
    month.
    """
    rng = Stream(words)
    edges = [float(e) for e in args["edges"]]
    first_days = [round(e * DAYS_PER_WEEK) for e in edges]  # month boundaries in whole days
    n_draws, n_services = args["len_p1"].shape
    start_month = int(args["start_month"])
    spend = np.zeros((n_draws, n_services, len(edges) - 1))
    caseload = np.zeros(spend.shape, dtype=np.int64)
    batches = {}
    for d in range(n_draws):
        for p in range(n_services):
            # Python floats throughout, so every operation is the plain IEEE one.
            law = (
                FAMILY[int(args["family"][p])],
                float(args["len_p1"][d, p]),
                float(args["len_p2"][d, p]),
            )
            cost_law = (
                float(args["cost_mu"][d, p]),
                float(args["cost_sigma"][p]),
                float(args["tail_share"][d, p]),
                float(args["tail_mu"][d, p]),
                float(args["tail_sigma"][p]),
            )
            own = slice(args["init_offsets"][p], args["init_offsets"][p + 1])
            rows = zip(
                args["init_elapsed"][own].tolist(),
                args["init_cost"][own].tolist(),
                args["init_planned"][own].tolist(),
                strict=True,
            )
            extend = float(args["extend_prob"][d, p])
            batch = starting_placements(
                rng, law, cost_law, edges[start_month], start_month, extend, rows
            )
            arrivals = args["arrivals"][d, p].tolist()
            batch += new_placements(rng, law, cost_law, edges, arrivals)
            for placement in batch:
                charge(placement, edges, first_days, spend[d, p], caseload[d, p])
            batches[d, p] = batch
    return Replay(batches, spend, caseload, rng.counts, rng.paths, rng.words())
