"""The overspend model in numpy, batched across draws: the strong yardstick for the engine.

``reference_numpy.py`` vectorises within one draw at a time (a Python loop
over draws, one numpy call per step and service). For Monte Carlo a
competent analyst does better: take a block of draws at once and handle
every placement of every draw in the block as one array, so each numpy call
works on thousands to a hundred thousand values and Python's per-call
overhead all but disappears. This module is that version; ``overspend bench`` reports the
engine's speed-up over both.

How it works, per block of ``block`` draws (memory is bounded by the block,
not by the number of draws; the outputs are ``draws x services x months`` as
the engine's are):

1. the uncertain inputs of the block, by inverse CDF (``Draws``, shared with
   the package, as in the reference);
2. for each placement service: the starting caseload's remaining lengths for
   every draw in one call; arrival counts as a (block x months) array of
   Poisson (or gamma-mixed Poisson) counts; every arrival of every draw
   expanded into flat arrays (draw, month, start, end, weekly cost), each
   placement reading its own draw's parameters by index;
3. charging with running sums: each placement's weekly cost, and its cost
   times its start and end times, go into ``np.bincount`` calls over
   (draw, month) bins; cumulative sums along months give the spend to each
   month end (O(placements + months), as in the numba kernel);
4. cost lines, inflation, income, savings and budgets as whole-block arrays.

The results agree with the engine's in distribution, not number for number
(the random streams differ; they depend on ``seed`` and ``block``).
``tests/bench/test_batched_numpy.py`` checks the means and spreads against
the engine within Monte Carlo standard errors. The per-draw helpers that
cost nothing per placement (parameters, seasonality, price index, savings)
are the reference's, so both yardsticks read the config the same way.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import special

from simulator.bench.yardsticks import load_reference, pathways_in
from simulator.config.calendar import month_grid, parse_fy
from simulator.config.schema import Config, Service
from simulator.model.equations import Draws, build_plan

_ref = load_reference()
ReferenceResult = _ref.ReferenceResult
UnsupportedConfig = _ref.UnsupportedConfig
# The same length draws as the per-draw reference: numpy broadcasts per-placement parameters.
draw_lengths = _ref.draw_lengths

#: Placements of one service simulated together (the block of draws is sized
#: to it by :func:`block_for`). Measured on the benchmark machine (2 MiB L2,
#: 32 MiB L3), CPU time, interleaved repetitions: blocks of 11 draws of the
#: example county (about 100,000 home care placements, some 12 MB of working
#: arrays) ran 1.28 times as fast as blocks of 100, whose arrays no longer fit
#: in the caches, and faster than blocks of 4 or 30.
BLOCK_PLACEMENTS = 100_000


def _per(values, d: np.ndarray):
    """Each placement's value of a per-draw parameter: ``values[d]``.

    A parameter the config fixes is the same in every draw; it stays one
    number, which saves a gather per placement.
    """
    v = np.asarray(values, dtype=np.float64)
    if v.ndim == 0:
        return float(v)
    return float(v[0]) if np.all(v == v[0]) else v[d]


def _params_at(params: dict, d: np.ndarray) -> dict:
    """A service's parameters (nested dict of per-draw arrays) for each placement."""
    return {k: _params_at(v, d) if isinstance(v, dict) else _per(v, d) for k, v in params.items()}


# ------------------------------------------------------------------ random lengths and costs


def draw_length_biased(rng: np.random.Generator, dist: str, p: dict, n: int) -> np.ndarray:
    """``n`` length-biased lengths (density l f(l) / E[L]); see ``reference_numpy``."""
    if dist == "lognormal":
        return np.exp(p["mu"] + p["sigma"] ** 2 + p["sigma"] * rng.standard_normal(n))
    if dist == "gamma":
        return p["scale"] * rng.standard_gamma(p["k"] + 1.0, n)
    if dist == "weibull":
        k = p["k"]
        return p["scale"] * rng.standard_gamma(1.0 + 1.0 / k, n) ** (1.0 / k)
    return p["scale"] * rng.standard_gamma(2.0, n)


def _take(p: dict, mask: np.ndarray) -> dict:
    """The parameters of the placements selected by ``mask``."""
    return {k: v[mask] if np.ndim(v) else v for k, v in p.items()}


def draw_remaining(rng: np.random.Generator, dist: str, p: dict, elapsed: np.ndarray) -> np.ndarray:
    """Remaining weeks of open placements that have lasted ``elapsed`` weeks (negative: steady state).

    As ``reference_numpy.draw_remaining``, with one parameter value per
    placement (so placements of many draws are drawn in one call): steady
    state is a uniform fraction of a length-biased length; a known elapsed
    time inverts the survival function, S(a + r) = V S(a) with V uniform.
    """
    steady, fresh, known = elapsed < 0.0, elapsed == 0.0, elapsed > 0.0
    n_steady = int(steady.sum())
    if n_steady == elapsed.size:  # the usual case (a count of open placements): no masks
        return rng.random(n_steady) * draw_length_biased(rng, dist, p, n_steady)
    out = np.empty(elapsed.size)
    if n_steady:
        biased = draw_length_biased(rng, dist, _take(p, steady), n_steady)
        out[steady] = rng.random(n_steady) * biased
    if fresh.any():
        out[fresh] = draw_lengths(rng, dist, _take(p, fresh), int(fresh.sum()))
    if known.any():
        q, a = _take(p, known), elapsed[known]
        v = rng.random(a.size)
        out[known] = _residual(dist, q, a, v)
    return np.maximum(out, 0.0)


def _residual(dist: str, p: dict, a: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Remaining length of a placement open ``a`` weeks, from the uniform ``v`` (inverse survival)."""
    if dist == "lognormal":
        sigma = np.broadcast_to(p["sigma"], a.shape)
        z0 = (np.log(a) - p["mu"]) / np.where(sigma > 0, sigma, 1.0)
        z = -special.ndtri(v * special.ndtr(-z0))
        # A fixed length (sigma 0) has lasted a weeks of exp(mu).
        return np.where(sigma > 0, np.exp(p["mu"] + sigma * z) - a, np.exp(p["mu"]) - a)
    if dist == "gamma":
        x = a / p["scale"]
        return p["scale"] * special.gammainccinv(p["k"], v * special.gammaincc(p["k"], x)) - a
    if dist == "weibull":
        h = (a / p["scale"]) ** p["k"] - np.log(v)
        return p["scale"] * h ** (1.0 / p["k"]) - a
    return -p["scale"] * np.log(v)  # memoryless


def draw_costs(rng: np.random.Generator, p: dict, n: int) -> np.ndarray:
    """``n`` weekly costs (GBP): the lognormal body, or with ``tail_share`` the high-cost tail."""
    mu, sigma = p["cost_mu"], p["cost_sigma"]
    share = p["tail_share"]
    if np.any(np.asarray(share) > 0.0):
        tail = rng.random(n) < share
        mu = np.where(tail, p["tail_mu"], mu)
        sigma = np.where(tail, p["tail_sigma"], sigma)
    return np.exp(mu + sigma * rng.standard_normal(n))


# ------------------------------------------------------------------ charging placements


def charge(
    draw: np.ndarray,
    first: np.ndarray,
    start: np.ndarray,
    end: np.ndarray,
    cost: np.ndarray,
    grid,
    n_draws: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Spend (GBP) and month-end caseload of placements of many draws, by running sums.

    Parameters
    ----------
    draw : numpy.ndarray of int
        The draw (0 to ``n_draws`` - 1) each placement belongs to.
    first : numpy.ndarray of int
        The month each placement starts in (known when it is drawn, so not searched for).
    start, end : numpy.ndarray
        When each placement is open, weeks from the start of the horizon:
        ``[start, end)``, with ``start`` in month ``first``.
    cost : numpy.ndarray
        Weekly cost of each placement, GBP per week.
    grid : MonthGrid
        The months (boundaries in weeks, and the month of each whole day).
    n_draws : int

    Returns
    -------
    spend : numpy.ndarray
        (n_draws, M), GBP: each placement charged ``cost`` a week for the
        time it is open in each month.
    caseload : numpy.ndarray
        (n_draws, M): placements open at each month end e (start < e <= end).

    Notes
    -----
    Spend to a time E is C(E) = sum of cost x (min(E, end) - start) over
    placements with start < E. At a month end E_m the placements that
    started by month m (``first <= m``) add cost x (E_m - start) and those
    that ended by then (``last <= m``) take back cost x (E_m - end), so

        C(E_m) = E_m (A_s - A_e) - (B_s - B_e),

    with A and B running sums over months of cost and cost x time, by the
    month of the start (s) or end (e): four weighted ``np.bincount`` calls
    over (draw, month) bins and cumulative sums; a month's spend is
    C(E_m) - C(E_m-1). Bin M collects ends after the horizon. The month a
    placement ends in is looked up by its day (month boundaries fall on
    whole days), as the kernel does: a binary search per placement
    (``np.searchsorted``) took a quarter of the time.
    """
    edges, month_of_day = grid.edges_weeks, grid.month_of_day()
    n_months = edges.size - 1
    size = n_months + 1
    last = month_of_day[np.minimum(end * 7.0, month_of_day.size - 1).astype(np.int64)]
    row = draw * size
    bins = n_draws * size
    head, tail = row + first, row + last

    def running(index: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
        sums = np.bincount(index, weights, minlength=bins).reshape(n_draws, size)
        return np.cumsum(sums[:, :n_months], axis=1)

    month_end = edges[1:]
    a = running(head, cost) - running(tail, cost)
    b = running(head, cost * start) - running(tail, cost * end)
    to_date = month_end * a - b
    spend = np.diff(to_date, axis=1, prepend=0.0)
    caseload = running(head) - running(tail)
    return spend, caseload


# ------------------------------------------------------------------ one block of draws


def placement_service(
    rng: np.random.Generator, svc: Service, params: dict, season: np.ndarray, grid, n: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """``n`` draws of one placements service at once: gross spend at price-base prices.

    Returns spend (GBP, n x M), month-end caseload (n x M), arrivals (n x M)
    and the number of placements simulated.
    """
    edges, t = grid.edges_weeks, _ref._years_since_start(grid)
    elapsed, known_cost = _ref._starting_caseload(svc)
    n_open = elapsed.size
    # The starting caseload: the same placements in every draw, each with its draw's parameters.
    d0 = np.repeat(np.arange(n), n_open)
    p0 = _params_at(params, d0)
    remaining = draw_remaining(rng, svc.length.dist, p0["length"], np.tile(elapsed, n))
    cost0 = np.tile(known_cost, n)
    unknown = cost0 <= 0.0
    if unknown.all():  # no weekly costs given: no masks
        cost0 = draw_costs(rng, p0, cost0.size)
    elif unknown.any():
        cost0[unknown] = draw_costs(rng, _take(p0, unknown), int(unknown.sum()))

    growth = (1.0 + params["growth"][:, None]) ** t
    rate = params["per_year"][:, None] * (grid.year_share() * season) * growth
    if svc.arrivals.dispersion > 0:
        phi = svc.arrivals.dispersion
        rate = rate * rng.gamma(1.0 / phi, phi, rate.shape)
    arrivals = rng.poisson(rate)
    # Every arrival of every draw in the block as one flat array.
    cell = np.repeat(np.arange(arrivals.size), arrivals.ravel())
    d1, month = np.divmod(cell, grid.n_months)
    p1 = _params_at(params, d1)
    start = edges[month] + rng.random(cell.size) * np.diff(edges)[month]
    end = start + draw_lengths(rng, svc.length.dist, p1["length"], cell.size)
    cost = draw_costs(rng, p1, cell.size)

    spend, caseload = charge(
        np.concatenate([d0, d1]),
        np.concatenate([np.zeros(d0.size, dtype=np.int64), month]),
        np.concatenate([np.zeros(d0.size), start]),
        np.concatenate([remaining, end]),
        np.concatenate([cost0, cost]),
        grid,
        n,
    )
    return spend, caseload, arrivals, d0.size + cell.size


def cost_line(rng: np.random.Generator, svc: Service, x: Draws, base: str, grid) -> np.ndarray:
    """A non-placement line for every draw of the block: gross monthly spend (GBP), n x M."""
    annual, growth = x[f"{base}.cost.annual_gbp"], x[f"{base}.cost.growth"]
    t = _ref._years_since_start(grid)
    spend = annual[:, None] * grid.year_share() * (1.0 + growth[:, None]) ** t
    cv = svc.cost.monthly_cv
    if cv > 0:
        mu, sigma = _ref._lognormal_from_mean(1.0, cv)
        spend = spend * np.exp(mu + sigma * rng.standard_normal(spend.shape))
    return spend


def _block(config: Config, plan, grid, rng: np.random.Generator, n: int) -> dict:
    """Gross, net and the other outputs of ``n`` draws (services only, no department rows)."""
    x = Draws(plan, rng.random((n, len(plan.inputs))))
    n_s = len(config.services)
    gross = np.zeros((n, n_s, grid.n_months))
    caseload = np.zeros((n, n_s, grid.n_months), dtype=np.int64)
    arrivals = np.zeros((n, n_s, grid.n_months), dtype=np.int64)
    placements = 0
    for s, (key, svc) in enumerate(config.services.items()):
        base = f"services.{key}"
        if svc.kind == "placements":
            params = _ref._service_params(svc, x, base)
            spend, load, new, count = placement_service(
                rng, svc, params, _ref._season(svc, grid), grid, n
            )
            gross[:, s], caseload[:, s], arrivals[:, s] = spend, load, new
            placements += count
        else:
            gross[:, s] = cost_line(rng, svc, x, base, grid)
    gross *= _ref.price_index(config, x)[:, :, grid.fy_index]
    share = np.stack([x[f"services.{k}.income.share"] for k in config.services], axis=1)
    income = gross * share[:, :, None]
    savings = _ref.savings_delivered(config, x)
    month_share = grid.days / grid.fy_days[grid.fy_index]
    spend = gross - income - savings[:, :, grid.fy_index] * month_share
    return {
        "spend": spend,
        "caseload": caseload,
        "arrivals": arrivals,
        "gross": gross,
        "income": income,
        "savings": savings,
        "placements": placements,
    }


# ------------------------------------------------------------------ the model


def simulate(config: Config, draws: int, seed: int, block: int | None = None) -> ReferenceResult:
    """Run the model with numpy, ``block`` draws at a time.

    Parameters
    ----------
    config : Config
    draws : int
        Monte Carlo draws.
    seed : int
        Seeds this implementation's own generator (its results differ from
        the engine's number by number and agree in distribution).
    block : int, optional
        Draws simulated together (default :func:`block_for` the config):
        working memory grows with it (about 120 bytes per placement of the
        largest service), Python's overhead per draw falls.

    Returns
    -------
    ReferenceResult
        As ``reference_numpy.simulate``'s.

    Raises
    ------
    UnsupportedConfig
        For a config with a caseload snapshot or actuals (in-year monitoring),
        which neither numpy yardstick models.
    """
    block = block_for(config) if block is None else block
    if block < 1:
        raise ValueError(f"block = {block}: must be at least 1 draw")
    if pathways_in(config):
        # Moves between services, ageing out and shared demand factors (issue 12) are
        # outside these yardsticks; the bench strips them (simulator.bench.yardsticks).
        raise UnsupportedConfig(
            "the numpy yardsticks do not model moves, ageing or shared demand factors: "
            + ", ".join(pathways_in(config))
        )
    if config.snapshot is not None or config.actuals is not None:
        raise UnsupportedConfig(
            "the batched numpy yardstick does not model [snapshot] or [actuals] "
            "(in-year monitoring)"
        )
    rng = np.random.default_rng(seed)
    grid = month_grid(parse_fy(config.horizon.start), config.horizon.years)
    plan = build_plan(config)  # only for the list of uncertain inputs and their inverse CDFs
    keys = list(config.services)
    shape = (draws, len(keys), grid.n_months)
    out = {
        "spend": np.empty(shape),
        "gross": np.empty(shape),
        "income": np.empty(shape),
        "caseload": np.empty(shape, dtype=np.int64),
        "arrivals": np.empty(shape, dtype=np.int64),
        "savings": np.empty((draws, len(keys), grid.years)),
    }
    placements = 0
    for first in range(0, draws, block):
        stop = min(draws, first + block)
        part = _block(config, plan, grid, rng, stop - first)
        for name, array in out.items():
            array[first:stop] = part[name]
        placements += part["placements"]

    def by_year(a: np.ndarray) -> np.ndarray:
        return a.reshape(draws, len(keys), grid.years, 12).sum(axis=3)

    budget = np.array(
        [[config.services[k].budget_gbp.value(y) for y in config.fy_labels] for k in keys]
    )
    outturn = by_year(out["spend"])
    return ReferenceResult(
        keys=keys,
        spend=out["spend"],
        caseload=out["caseload"],
        arrivals=out["arrivals"],
        gross=by_year(out["gross"]),
        income=by_year(out["income"]),
        savings=out["savings"],
        outturn=outturn,
        overspend=outturn - budget,
        placements=placements,
    )


def block_for(config: Config, budget_placements: int = BLOCK_PLACEMENTS) -> int:
    """Draws per block so the largest service's placements stay near ``budget_placements``.

    Expected placements of a service per draw: its starting caseload plus its
    expected arrivals over the horizon (at the configured mean rate, without
    growth: a sizing guide, not a bound).
    """
    years = config.horizon.years
    most = 1.0
    for svc in config.services.values():
        if svc.kind != "placements":
            continue
        open_ = 0 if svc.caseload is None else svc.caseload.count
        most = max(most, open_ + svc.arrivals.per_year.median() * years)
    return max(1, math.floor(budget_placements / most))
