"""The placement kernel against a slow plain-Python replay of it, number for number.

``kernels.simulate_placements`` is run as the model runs it (``placement_spend``
on a chunk's generator from ``chunks.chunk_rng``), with its arguments recorded;
``tests/naive_kernel.py`` then replays it from the same generator words. The
replay shares only the kernel's random-number primitives (uniform, normal,
exponential, gamma) and redoes the rest in readable Python: the order of the
draws, the starting caseload's remaining lengths (planned ends and extensions,
steady state, lengths conditioned on the time already lasted), the high-cost
tail, arrival times, and which months each placement is charged for and open at.

Distributional tests (``test_reference.py``, ``test_analytic.py``) cannot see a
day charged twice or a month-end count off by one month in a few placements;
here every such slip changes a number. What must agree:

- exactly: the generator state after the kernel and the variates drawn by kind
  (the same numbers were drawn in the same order), each placement's first month
  and start, lengths and costs the kernel does not pass through its vectorised
  exponential, and every month-end caseload;
- within ``EXP_ULPS`` units in the last place: lengths and costs that the kernel
  takes through ``kernels.exp_scale`` (within 2 ulp of libm's ``exp``, and the
  kernel multiplies by ``2**k`` as a second step), where the replay uses ``math.exp``;
  Weibull lengths within ``LOG_ULPS`` ulp of their power more, the kernel taking
  the power's log with ``kernels.log_divide`` (within 1 ulp of ``math.log``);
- within ``SPEND_RTOL`` of the service-draw's full monthly charge: spend, which
  the kernel accumulates with difference arrays and a running weekly rate while
  the replay adds each placement's weeks in each month, so their roundings differ.

One seed, three draws, a few hundred placements per case: a few seconds in all
once numba's cache is warm.
"""

from __future__ import annotations

import copy
import inspect
from dataclasses import dataclass
from datetime import date

import numpy as np
import pytest

from simulator.engine import chunks
from simulator.model import equations, kernels
from tests import naive_kernel
from tests.helpers import make_config, placement_service

SEED, DRAWS = 2024, 3
EPS = np.finfo(np.float64).eps
# exp_scale is within 2 ulp of exp, and the kernel's product with the scale and
# the replay's each round once more; seen: at most 1 ulp.
EXP_ULPS = 4
# A Weibull power log(E) / k is within 1 ulp of the log, divided by k, plus the
# two sides' roundings of the quotient: at most 2 ulp of the power, under
# 2 * |power| * eps; exp turns that absolute error into a relative one.
LOG_ULPS = 2
# The two sums' roundings are at most about (placements) * eps of a service-draw's
# full monthly charge, some 1e-14 here (seen: 3e-16). One placement charged a day
# more or less moves a month by at least 1e-7 of it in these cases.
SPEND_RTOL = 1e-12


# ------------------------------------------------------------------ the cases


def _cost(mean: float, cv: float = 0.3, **tail) -> dict:
    return {"mean_gbp_per_week": mean, "cv": cv, **tail}


HIGH_COST_TAIL = {
    "high_cost_share": {"dist": "uniform", "low": 0.15, "high": 0.35},
    "high_cost_mean_gbp_per_week": 4000.0,
    "high_cost_cv": 0.25,
}


def _snapshot(as_of: date, rows: list[tuple], extension) -> dict:
    """Snapshot placements from (service, start, weekly cost or None, planned end or None)."""
    return {
        "as_of": as_of,
        "extension_probability": extension,
        "placements": [
            {"service": s, "start_date": start, "weekly_cost_gbp": cost, "planned_end_date": end}
            for s, start, cost, end in rows
        ],
    }


# (service, start date, weekly cost or None to draw one, planned end or None).
# Planned ends on month ends and on first days of months, where a placement
# ends exactly on a month boundary; and on 1 April, the first day simulated,
# where it ends at once unless extended.
SNAPSHOT_ROWS = [
    ("homes", date(2023, 6, 1), 3500.0, date(2024, 5, 1)),
    ("homes", date(2024, 1, 10), None, date(2024, 6, 1)),
    ("homes", date(2022, 2, 1), 5000.0, date(2024, 6, 30)),
    ("homes", date(2024, 3, 31), None, date(2024, 9, 1)),
    ("homes", date(2020, 9, 1), 4200.0, None),
    ("homes", date(2023, 11, 15), None, None),
    ("fostering", date(2024, 2, 1), 450.0, date(2024, 4, 1)),
    ("fostering", date(2021, 5, 5), None, date(2024, 11, 30)),
    ("fostering", date(2023, 8, 1), None, date(2025, 1, 1)),
    ("fostering", date(2024, 1, 1), 600.0, None),
]
NEVER_EXTENDED_ROWS = [
    ("homes", date(2024, 1, 1), None, date(2025, 6, 1)),
    ("homes", date(2025, 3, 31), 2500.0, date(2025, 4, 1)),
    ("homes", date(2023, 10, 9), None, None),
    ("homes", date(2024, 12, 1), 3500.0, date(2026, 1, 31)),
]
# Dated 30 June: the kernel starts in July, three months into the horizon.
IN_YEAR_ROWS = [
    ("packages", date(2024, 5, 20), None, date(2024, 7, 1)),
    ("packages", date(2023, 4, 1), 800.0, date(2024, 8, 31)),
    ("packages", date(2019, 1, 1), None, date(2024, 12, 1)),
    ("packages", date(2024, 6, 30), None, None),
    ("packages", date(2022, 7, 1), 650.0, None),
    ("respite", date(2024, 6, 1), None, date(2024, 10, 1)),
    ("respite", date(2024, 3, 3), 300.0, None),
    ("respite", date(2023, 12, 24), None, date(2025, 3, 1)),
]


def _actuals(as_of: date, services: list[str], months: list[str]) -> dict:
    rows = [{"service": s, "month": m, "net_spend_gbp": 1000.0} for s in services for m in months]
    return {"as_of": as_of, "months": rows}


@dataclass(frozen=True)
class Case:
    services: dict
    top: dict  # horizon and other top-level sections for make_config
    paths: tuple[str, ...]  # replay branches the case must exercise


CASES = {
    "lognormal steady state, high-cost tail": Case(
        {
            "homes": placement_service(
                caseload={"open": 12},
                arrivals={"per_year": 30.0},
                length={
                    "dist": "lognormal",
                    "median_weeks": {"dist": "uniform", "low": 20, "high": 40},
                    "sigma": 0.9,
                },
                unit_cost=_cost(900.0, **HIGH_COST_TAIL),
            )
        },
        {"years": 2},
        ("start: steady state",),
    ),
    "lognormal elapsed, deep in the tail": Case(
        {
            "homes": placement_service(
                # 43.7 weeks is just past Robert's threshold (z0 = 0.47).
                caseload={"elapsed_weeks": [0.0, 2.0, 25.0, 43.7, 150.0, 900.0, 3000.0]},
                arrivals={"per_year": 25.0},
                length={"dist": "lognormal", "median_weeks": 30.0, "sigma": 0.8},
                unit_cost=_cost(700.0, cv=0.0),
            )
        },
        {"years": 2},
        (
            "start: elapsed",
            "normal above: plain rejection",
            "normal above: Robert's exponential proposal",
        ),
    ),
    "lognormal without spread, known costs": Case(
        {
            # sigma 0 and cv 0 draw no normals; elapsed past the median ends at once.
            "fixed": placement_service(
                caseload={"elapsed_weeks": [0.0, 10.0, 25.0], "weekly_cost_gbp": [500.0, 0.5, 9e4]},
                arrivals={"per_year": 20.0},
                length={"dist": "lognormal", "median_weeks": 20.0, "sigma": 0.0},
                unit_cost=_cost(300.0, cv=0.0),
            ),
            "steady": placement_service(
                caseload={"open": 5},
                arrivals={"per_year": 10.0},
                length={"dist": "lognormal", "mean_weeks": 12.0, "sigma": 0.0},
                unit_cost=_cost(250.0, cv=0.0),
            ),
        },
        {"years": 1},
        ("start: elapsed", "start: steady state"),
    ),
    "gamma elapsed, shape below and above one": Case(
        {
            "short": placement_service(
                caseload={"elapsed_weeks": [0.0, 5.0, 30.0, 38.0, 80.0, 250.0]},
                arrivals={"per_year": 30.0},
                length={"dist": "gamma", "mean_weeks": 40.0, "shape": 0.6},
                unit_cost=_cost(400.0),
            ),
            "long": placement_service(
                caseload={"elapsed_weeks": [0.0, 10.0, 60.0, 150.0, 400.0]},
                arrivals={"per_year": 20.0},
                length={"dist": "gamma", "median_weeks": 30.0, "shape": 3.0},
                unit_cost=_cost(1200.0),
            ),
        },
        {"years": 2},
        (
            "gamma past: redraw until longer",
            "gamma past: exponential proposal, shape >= 1",
            "gamma past: exponential proposal, shape < 1",
        ),
    ),
    "weibull elapsed and steady state": Case(
        {
            "elapsed": placement_service(
                caseload={"elapsed_weeks": [0.0, 10.0, 40.0, 100.0, 300.0]},
                arrivals={"per_year": 25.0},
                length={"dist": "weibull", "mean_weeks": 50.0, "shape": 1.5},
                unit_cost=_cost(600.0),
            ),
            "steady": placement_service(
                caseload={"open": 8},
                arrivals={"per_year": 25.0},
                length={"dist": "weibull", "median_weeks": 15.0, "shape": 0.7},
                unit_cost=_cost(600.0, **HIGH_COST_TAIL),
            ),
        },
        {"years": 2},
        ("weibull past: direct", "weibull past: in logs", "start: steady state"),
    ),
    "exponential elapsed, gamma steady state": Case(
        {
            "elapsed": placement_service(
                caseload={"elapsed_weeks": [0.0, 3.0, 100.0]},
                arrivals={"per_year": 25.0},
                length={"dist": "exponential", "mean_weeks": 26.0},
                unit_cost=_cost(350.0),
            ),
            "steady": placement_service(
                caseload={"open": 7},
                arrivals={"per_year": 15.0},
                length={"dist": "gamma", "mean_weeks": 30.0, "shape": 2.0},
                unit_cost=_cost(800.0),
            ),
        },
        {"years": 1},
        ("start: elapsed", "start: steady state"),
    ),
    "negative binomial arrivals": Case(
        {
            # Arrivals are drawn in numpy before the kernel, which only sees the
            # counts; uneven months and service-draws check the batch bookkeeping.
            "surging": placement_service(
                caseload={"open": 6},
                arrivals={
                    "per_year": 40.0,
                    "growth": {"dist": "normal", "mean": 0.05, "sd": 0.05},
                    "dispersion": 1.0,
                    "seasonality": [1, 1, 1, 1, 1, 1, 2, 2, 1, 1, 1, 1],
                },
                length={"dist": "exponential", "median_weeks": 10.0},
                unit_cost=_cost(500.0, **HIGH_COST_TAIL),
            ),
            "steady": placement_service(
                caseload={"open": 4},
                arrivals={"per_year": 20.0, "dispersion": 0.3},
                length={"dist": "lognormal", "mean_weeks": 35.0, "sigma": 1.1},
                unit_cost=_cost(300.0),
            ),
        },
        {"years": 2},
        ("start: steady state",),
    ),
    "snapshot with planned ends": Case(
        {
            "homes": placement_service(
                caseload=None,
                arrivals={"per_year": 12.0},
                length={"dist": "lognormal", "median_weeks": 40.0, "sigma": 0.9},
                unit_cost=_cost(4000.0, **HIGH_COST_TAIL),
            ),
            "fostering": placement_service(
                caseload=None,
                arrivals={"per_year": 20.0},
                length={"dist": "weibull", "mean_weeks": 60.0, "shape": 1.3},
                unit_cost=_cost(450.0),
            ),
        },
        {
            "years": 2,
            "snapshot": _snapshot(
                date(2024, 3, 31), SNAPSHOT_ROWS, {"dist": "uniform", "low": 0.3, "high": 0.7}
            ),
        },
        ("start: planned", "start: planned, extended", "start: elapsed"),
    ),
    "snapshot with planned ends, never extended": Case(
        {
            # A uniform is still drawn for each planned end (the stream must not depend
            # on whether extension is possible).
            "homes": placement_service(
                caseload=None,
                arrivals={"per_year": 10.0},
                length={"dist": "exponential", "mean_weeks": 50.0},
                unit_cost=_cost(3000.0),
            )
        },
        {
            "start": "2025/26",
            "years": 1,
            "snapshot": _snapshot(date(2025, 3, 31), NEVER_EXTENDED_ROWS, 0.0),
        },
        ("start: planned", "start: elapsed"),
    ),
    "in-year snapshot after three months of actuals": Case(
        {
            "packages": placement_service(
                caseload=None,
                arrivals={"per_year": 30.0},
                length={"dist": "gamma", "mean_weeks": 30.0, "shape": 0.8},
                unit_cost=_cost(700.0),
            ),
            "respite": placement_service(
                caseload=None,
                arrivals={"per_year": 20.0},
                length={"dist": "exponential", "mean_weeks": 8.0},
                unit_cost=_cost(300.0, **HIGH_COST_TAIL),
            ),
        },
        {
            "years": 1,
            "snapshot": _snapshot(date(2024, 6, 30), IN_YEAR_ROWS, 0.5),
            "actuals": _actuals(
                date(2024, 6, 30), ["packages", "respite"], ["2024-04", "2024-05", "2024-06"]
            ),
        },
        ("start: planned", "start: planned, extended", "start: elapsed"),
    ),
}


# ------------------------------------------------------------------ running both


@dataclass
class KernelRun:
    """The kernel as the model ran it: its arguments, outputs and generator states."""

    plan: equations.Plan
    words: list[int]  # the next four raw words of the chunk's generator at the kernel call
    args: dict  # the kernel's arguments by name, as they were before the call
    after: dict  # the same arrays after the call: its outputs and final state


def run_kernel(config) -> KernelRun:
    """Run ``placement_spend`` as ``simulate_chunk`` does, recording the kernel call."""
    plan = equations.build_plan(config)
    rng = chunks.chunk_rng(SEED, 0)
    x = equations.Draws(plan, rng.random((DRAWS, len(plan.inputs))))
    arrivals = equations.draw_arrivals(plan, x, rng)
    words = [int(w) for w in copy.deepcopy(rng).bit_generator.random_raw(4)]
    real, calls = kernels.simulate_placements, []

    def recording(*args):
        named = inspect.signature(real.py_func).bind(*args).arguments
        before = {k: np.copy(v) for k, v in named.items()}
        real(*args)
        calls.append((before, {k: np.copy(v) for k, v in named.items()}))

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(kernels, "simulate_placements", recording)
        equations.placement_spend(plan, x, arrivals, rng)
    assert len(calls) == 1, "placement_spend no longer calls kernels.simulate_placements once"
    return KernelRun(plan, words, *calls[0])


@dataclass
class Both:
    """One case run through the kernel and through the replay."""

    spec: Case
    run: KernelRun
    replay: naive_kernel.Replay


@pytest.fixture(scope="module", params=list(CASES))
def case(request) -> Both:
    """Each case, run once and shared by the tests below."""
    spec = CASES[request.param]
    run = run_kernel(make_config(spec.services, **spec.top))
    return Both(spec, run, naive_kernel.replay(run.words, run.args))


def _words(record) -> list[int]:
    return [int(record[f"s{i}"]) for i in range(4)]


def _kernel_batches(run: KernelRun) -> tuple[dict, list[int]]:
    """Each service-draw's placements as the kernel draws them, before it charges them.

    Drives the kernel's own per-batch functions (private, but the only place its
    per-placement numbers exist) in the order of its main loop. Returns, by
    (draw, service), the first month, start, length, length exponent, cost and
    cost exponent of each placement, lengths and costs after ``exp_scale``; and
    the generator words at the end.
    """
    a = run.args
    state = kernels.state_from(run.words)
    n_draws, n_services = a["len_p1"].shape
    out = {}
    for d in range(n_draws):
        for p in range(n_services):
            own = slice(a["init_offsets"][p], a["init_offsets"][p + 1])
            size = own.stop - own.start + int(a["arrivals"][d, p].sum())
            batch = (
                np.empty(size, np.int64),
                *(np.empty(size) for _ in range(5)),
                np.empty(size, bool),
            )
            law = (a["family"][p], a["len_p1"][d, p], a["len_p2"][d, p])
            cost_law = (a["cost_mu"][d, p], a["cost_sigma"][p], a["tail_share"][d, p])
            cost_law += (a["tail_mu"][d, p], a["tail_sigma"][p])
            n = kernels._starting_placements(
                state[0], law, cost_law, a["edges"][a["start_month"]], a["start_month"],
                a["extend_prob"][d, p], a["init_elapsed"][own], a["init_planned"][own],
                a["init_cost"][own], batch, a["year_edges"], np.zeros(a["high_cost"].shape[2], np.int32),
            )  # fmt: skip
            n = kernels._new_placements(
                state[0], law, cost_law, a["edges"], a["arrivals"][d, p], batch, n
            )
            assert n == size
            first, start, length, length_power, cost, cost_power, _ = batch
            powers = length_power.copy(), cost_power.copy()
            work = np.empty(n, np.int64)
            kernels.exp_scale(length, length_power, work, n)
            kernels.exp_scale(cost, cost_power, work, n)
            out[d, p] = (first, start, length, powers[0], cost, powers[1])
    return out, _words(state[0])


def _agree_through_exp(
    kernel: np.ndarray, power: np.ndarray, replayed: list, what: str, logged: bool = False
):
    """Kernel and replay agree: exactly where the kernel's exponent is 0 (``exp_scale``
    multiplies by exactly 1), within ``EXP_ULPS`` where it took a real exponential,
    and ``LOG_ULPS`` ulp of the power more where the power came from a log (``logged``).
    """
    replayed = np.array(replayed)
    plain = power == 0.0
    assert np.array_equal(kernel[plain], replayed[plain]), what
    ulps = np.abs(kernel[~plain] / replayed[~plain] - 1.0) / EPS
    allowed = EXP_ULPS + (LOG_ULPS * np.abs(power[~plain]) if logged else 0.0)
    assert np.all(ulps <= allowed), (what, np.max(ulps - allowed))


# ------------------------------------------------------------------ the tests


def test_kernel_is_seeded_from_the_chunk_generator(case):
    assert _words(case.run.args["rng"][0]) == case.run.words


def test_each_case_takes_the_branches_it_is_meant_to(case):
    # A case that silently stopped reaching its branch would prove nothing.
    missing = [path for path in case.spec.paths if case.replay.paths[path] == 0]
    assert not missing, (missing, dict(case.replay.paths))
    if case.run.args["tail_share"].any():
        tails = [q.tail for q in case.replay.placements]
        assert any(tails) and not all(tails)


def test_same_variates_in_the_same_order(case):
    # The same final state means the same number of 64-bit words was drawn; with
    # the counts by kind and the placement-by-placement match below, the same
    # variates were drawn for the same purposes.
    run, rep = case.run, case.replay
    assert rep.words == _words(run.after["rng"][0])
    by_kind = [rep.counts[k] for k in ("uniform", "normal", "exponential", "gamma")]
    assert by_kind == (run.after["counts"] - run.args["counts"]).tolist()


def test_same_placements_one_by_one(case):
    batches, words = _kernel_batches(case.run)
    assert words == case.replay.words  # the per-batch functions drew what the kernel drew
    for key, (first, start, length, length_power, cost, cost_power) in batches.items():
        mine = case.replay.batches[key]
        assert [q.first_month for q in mine] == first.tolist(), key
        assert [q.start for q in mine] == start.tolist(), key
        weibull = case.run.args["family"][key[1]] == kernels.WEIBULL
        lengths = [q.length for q in mine]
        _agree_through_exp(length, length_power, lengths, f"length {key}", logged=weibull)
        _agree_through_exp(cost, cost_power, [q.weekly_cost for q in mine], f"cost {key}")


def test_same_caseload_every_month(case):
    assert np.array_equal(case.run.after["caseload"], case.replay.caseload)


def test_same_spend_every_month(case):
    widest = np.diff(case.run.args["edges"]).max()
    for (d, p), batch in case.replay.batches.items():
        full = sum(q.weekly_cost for q in batch) * widest  # every placement open all month
        diff = np.abs(case.run.after["spend"][d, p] - case.replay.spend[d, p])
        assert np.all(diff <= SPEND_RTOL * full), ((d, p), diff.max() / full)


def test_the_chunk_returns_the_kernel_outputs(case):
    # The run above drew from the chunk's generator in simulate_chunk's order; the
    # cases have no inflation, income or savings, so spend is the kernel's gross.
    plan, kernel = case.run.plan, case.run.after
    chunk = equations.simulate_chunk(plan, chunks.chunk_rng(SEED, 0), DRAWS)
    live = slice(plan.start_month, None)  # months before it hold the actuals
    assert np.array_equal(chunk.caseload[:, plan.placement, live], kernel["caseload"][..., live])
    assert np.array_equal(chunk.spend[:, plan.placement, live], kernel["spend"][..., live])
