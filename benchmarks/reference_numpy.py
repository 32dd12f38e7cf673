"""The overspend model in plain numpy, as a competent analyst would write it.

This is the benchmark's yardstick for the numba engine (``overspend bench``
reports the engine's speed-up over it) and a cross-check of the engine's
equations: it draws from the same distributions, so its outputs agree with
the engine's *in distribution* (not number for number: the random streams
differ).

How an analyst would write it: the uncertain inputs are drawn for all draws
at once; then a Python loop over draws, and within a draw each service's
placements are handled as whole arrays (one vectorised call per step: draw
every arrival count, start time, length and weekly cost, then charge every
placement for its weeks in each month through an overlap matrix of
placements x months). Two ways of charging are offered:

``"overlap"`` (the default, the direct translation of "a placement is
charged for the weeks it is open in each month")
    builds the placements x months matrix of weeks open, so the work is
    O(placements x months) per draw;
``"difference"`` (an optimised analyst)
    adds each placement's part-month charges and its change in the weekly
    rate at month boundaries into per-month totals with ``np.bincount`` and
    takes a cumulative sum: O(placements + months), the same idea as the
    numba kernel.

Shared with the package: the config parser, the month calendar, and the
inverse CDFs of the parameter distributions (``Param.ppf``, by way of
``simulator.model.equations.Draws``), which are the config's own definitions and cost
nothing per placement. Every model equation (the starting caseload, arrivals,
lengths, costs, charging, inflation, income, savings and budget; see
:mod:`simulator.model.equations`) is written out again here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import special

from simulator.bench.yardsticks import pathways_in
from simulator.config.calendar import DAYS_PER_WEEK, DAYS_PER_YEAR, MonthGrid, month_grid, parse_fy
from simulator.config.schema import Config, Service
from simulator.model.equations import Draws, build_plan


class UnsupportedConfig(ValueError):
    """A config this yardstick deliberately does not model (in-year monitoring)."""


CHARGING = ("overlap", "difference")


@dataclass
class ReferenceResult:
    """Outputs per draw for each service (no department or total rows).

    Money in GBP; S services, M months, Y financial years.
    """

    keys: list[str]
    spend: np.ndarray  # (D, S, M) net spend
    caseload: np.ndarray  # (D, S, M) placements open at month end
    arrivals: np.ndarray  # (D, S, M) new placements
    gross: np.ndarray  # (D, S, Y) gross spend
    income: np.ndarray  # (D, S, Y)
    savings: np.ndarray  # (D, S, Y)
    outturn: np.ndarray  # (D, S, Y) net spend
    overspend: np.ndarray  # (D, S, Y) outturn minus budget
    placements: int  # placements simulated, over all draws


# ------------------------------------------------------------------ parameters per service


def _lognormal_from_mean(mean, cv: float):
    """(mu, sigma) of a lognormal with the given mean and coefficient of variation."""
    s2 = math.log1p(cv * cv)
    return np.log(mean) - s2 / 2.0, math.sqrt(s2)


def _length_params(svc: Service, x: Draws, base: str) -> dict:
    """Per-draw natural parameters of a service's length distribution (weeks)."""
    length = svc.length
    median = x.get(f"{base}.length.median_weeks")
    mean = x.get(f"{base}.length.mean_weeks")
    if length.dist == "lognormal":
        sigma = x[f"{base}.length.sigma"]
        # median = exp(mu); mean = exp(mu + sigma^2 / 2)
        mu = np.log(median) if median is not None else np.log(mean) - sigma**2 / 2.0
        return {"mu": mu, "sigma": sigma}
    if length.dist == "gamma":
        k = x[f"{base}.length.shape"]
        scale = mean / k if mean is not None else median / special.gammaincinv(k, 0.5)
        return {"k": k, "scale": scale}
    if length.dist == "weibull":
        k = x[f"{base}.length.shape"]
        scale = (
            mean / special.gamma(1.0 + 1.0 / k)
            if mean is not None
            else median / np.log(2) ** (1 / k)
        )
        return {"k": k, "scale": scale}
    scale = mean if mean is not None else median / math.log(2.0)
    return {"scale": scale}


def _service_params(svc: Service, x: Draws, base: str) -> dict:
    """Everything a placement service needs, one array of D values per name."""
    p = {"length": _length_params(svc, x, base)}
    p["per_year"] = x[f"{base}.arrivals.per_year"]
    p["growth"] = x[f"{base}.arrivals.growth"]
    p["cost_mu"], p["cost_sigma"] = _lognormal_from_mean(
        x[f"{base}.unit_cost.mean_gbp_per_week"], svc.unit_cost.cv
    )
    tail_mean = x.get(f"{base}.unit_cost.high_cost_mean_gbp_per_week")
    p["tail_share"] = x[f"{base}.unit_cost.high_cost_share"]
    if tail_mean is not None:
        p["tail_mu"], p["tail_sigma"] = _lognormal_from_mean(tail_mean, svc.unit_cost.high_cost_cv)
    return p


def _at(params: dict, d: int) -> dict:
    """One draw's values of a nested dict of per-draw arrays."""
    return {
        k: _at(v, d) if isinstance(v, dict) else (v[d] if np.ndim(v) else v)
        for k, v in params.items()
    }


# ------------------------------------------------------------------ random lengths and costs


def draw_lengths(rng: np.random.Generator, dist: str, p: dict, n: int) -> np.ndarray:
    """``n`` placement lengths in weeks."""
    if dist == "lognormal":
        return np.exp(p["mu"] + p["sigma"] * rng.standard_normal(n))
    if dist == "gamma":
        return p["scale"] * rng.standard_gamma(p["k"], n)
    if dist == "weibull":
        return p["scale"] * rng.weibull(p["k"], n)
    return p["scale"] * rng.standard_exponential(n)


def draw_length_biased(rng: np.random.Generator, dist: str, p: dict, n: int) -> np.ndarray:
    """``n`` draws from the length-biased distribution, density l f(l) / E[L].

    Standard results: a length-biased lognormal(mu, s) is lognormal(mu + s^2, s);
    a length-biased gamma(k, theta) is gamma(k + 1, theta); for a Weibull(k, lam),
    (L / lam)^k is length-biased Exp(1) = gamma(1 + 1/k) to the power 1/k.
    """
    if dist == "lognormal":
        return np.exp(p["mu"] + p["sigma"] ** 2 + p["sigma"] * rng.standard_normal(n))
    if dist == "gamma":
        return p["scale"] * rng.standard_gamma(p["k"] + 1.0, n)
    if dist == "weibull":
        return p["scale"] * rng.standard_gamma(1.0 + 1.0 / p["k"], n) ** (1.0 / p["k"])
    return p["scale"] * rng.standard_gamma(2.0, n)


def draw_remaining(rng: np.random.Generator, dist: str, p: dict, elapsed: np.ndarray) -> np.ndarray:
    """Remaining weeks of placements that have lasted ``elapsed`` weeks (negative: steady state).

    Steady state: a uniform fraction of a length-biased length (the remaining
    time of a placement seen at a random moment). Known elapsed time: the
    length conditioned on exceeding it, by inverting the survival function,
    S(a + r) = V S(a) with V uniform.
    """
    n = elapsed.size
    out = np.empty(n)
    steady = elapsed < 0.0
    out[steady] = rng.random(steady.sum()) * draw_length_biased(rng, dist, p, int(steady.sum()))
    fresh = elapsed == 0.0
    out[fresh] = draw_lengths(rng, dist, p, int(fresh.sum()))
    known = elapsed > 0.0
    a, v = elapsed[known], rng.random(int(known.sum()))
    if dist == "lognormal":
        if p["sigma"] == 0.0:
            out[known] = np.maximum(math.exp(p["mu"]) - a, 0.0)
        else:
            z0 = (np.log(a) - p["mu"]) / p["sigma"]
            z = -special.ndtri(v * special.ndtr(-z0))
            out[known] = np.exp(p["mu"] + p["sigma"] * z) - a
    elif dist == "gamma":
        x = a / p["scale"]
        out[known] = p["scale"] * special.gammainccinv(p["k"], v * special.gammaincc(p["k"], x)) - a
    elif dist == "weibull":
        h = (a / p["scale"]) ** p["k"] - np.log(v)
        out[known] = p["scale"] * h ** (1.0 / p["k"]) - a
    else:
        out[known] = -p["scale"] * np.log(v)  # memoryless
    return np.maximum(out, 0.0)


def draw_costs(rng: np.random.Generator, p: dict, n: int) -> np.ndarray:
    """``n`` weekly costs (GBP): the lognormal body, or with ``tail_share`` the high-cost tail."""
    mu = np.full(n, p["cost_mu"])
    sigma = np.full(n, p["cost_sigma"])
    if p["tail_share"] > 0.0:
        tail = rng.random(n) < p["tail_share"]
        mu[tail], sigma[tail] = p["tail_mu"], p["tail_sigma"]
    return np.exp(mu + sigma * rng.standard_normal(n))


# ------------------------------------------------------------------ charging placements


def charge_overlap(start, end, cost, edges) -> tuple[np.ndarray, np.ndarray]:
    """Spend (GBP, per month) and month-end caseload from a placements x months matrix.

    A placement open on [start, end) weeks is charged ``cost`` for each week
    it overlaps each month; it is open at a month end e if start < e <= end.
    """
    month_end = edges[1:]
    weeks = np.minimum(end[:, None], month_end) - np.maximum(start[:, None], edges[:-1])
    spend = cost @ np.clip(weeks, 0.0, None)
    open_at_end = (start[:, None] < month_end) & (end[:, None] >= month_end)
    return spend, open_at_end.sum(axis=0)


def charge_difference(start, end, cost, edges) -> tuple[np.ndarray, np.ndarray]:
    """The same as :func:`charge_overlap` in O(placements + months), with difference arrays.

    Each placement adds its part-month charge in its first and last month and
    starts (stops) adding ``cost`` a week from the month after it starts (the
    month it ends); a cumulative sum turns those changes into weekly rates.
    Month index M collects what happens after the horizon.
    """
    n_months = edges.size - 1
    first = np.searchsorted(edges, start, side="right") - 1
    last = np.minimum(np.searchsorted(edges, end, side="right") - 1, n_months)
    size = n_months + 2
    direct = np.bincount(first, cost * (edges[first + 1] - start), size) + np.bincount(
        last, cost * (end - edges[last]), size
    )
    rate = np.bincount(first + 1, cost, size) - np.bincount(last, cost, size)
    spend = direct[:n_months] + np.cumsum(rate)[:n_months] * np.diff(edges)
    opened = np.bincount(first, minlength=size) - np.bincount(last, minlength=size)
    return spend, np.cumsum(opened)[:n_months]


# ------------------------------------------------------------------ the model, draw by draw


def _season(svc: Service, grid: MonthGrid) -> np.ndarray:
    """Seasonal weights per month, scaled so each year's expected arrivals equal per_year."""
    w = np.tile(
        np.ones(12) if svc.arrivals.seasonality is None else svc.arrivals.seasonality, grid.years
    )
    per_fy = np.bincount(grid.fy_index, weights=w * grid.days)
    return w * grid.fy_days[grid.fy_index] / per_fy[grid.fy_index]


def _starting_caseload(svc: Service) -> tuple[np.ndarray, np.ndarray]:
    """Elapsed weeks (-1: steady state) and known weekly cost (0: draw one) of each open placement."""
    load = svc.caseload
    n = 0 if load is None else load.count
    if n == 0:
        return np.empty(0), np.empty(0)
    elapsed = (
        np.full(n, -1.0)
        if load.elapsed_weeks is None
        else np.broadcast_to(load.elapsed_weeks, (n,)).astype(float)
    )
    cost = np.zeros(n) if load.weekly_cost_gbp is None else np.asarray(load.weekly_cost_gbp, float)
    return elapsed, cost


def placement_service(
    rng: np.random.Generator,
    svc: Service,
    p: dict,
    season: np.ndarray,
    grid: MonthGrid,
    charging: str,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """One draw of one placements service: gross spend at price-base prices, caseload, arrivals.

    Returns spend (GBP, M), month-end caseload (M), arrivals (M) and the
    number of placements simulated.
    """
    edges, t = grid.edges_weeks, _years_since_start(grid)
    elapsed, known_cost = _starting_caseload(svc)
    remaining = draw_remaining(rng, svc.length.dist, p["length"], elapsed)
    cost0 = known_cost.copy()
    unknown = cost0 <= 0.0
    cost0[unknown] = draw_costs(rng, p, int(unknown.sum()))

    rate = p["per_year"] * grid.year_share() * season * (1.0 + p["growth"]) ** t
    if svc.arrivals.dispersion > 0:
        phi = svc.arrivals.dispersion
        rate = rate * rng.gamma(1.0 / phi, phi, rate.size)
    arrivals = rng.poisson(rate)
    month = np.repeat(np.arange(grid.n_months), arrivals)
    start = edges[month] + rng.random(month.size) * np.diff(edges)[month]
    end = start + draw_lengths(rng, svc.length.dist, p["length"], month.size)
    cost = draw_costs(rng, p, month.size)

    charge = charge_overlap if charging == "overlap" else charge_difference
    spend, caseload = charge(
        np.concatenate([np.zeros(elapsed.size), start]),
        np.concatenate([remaining, end]),
        np.concatenate([cost0, cost]),
        edges,
    )
    return spend, caseload, arrivals, elapsed.size + month.size


def _years_since_start(grid: MonthGrid) -> np.ndarray:
    """Mid-month time in years since the horizon starts."""
    return (grid.edges_weeks[:-1] + grid.edges_weeks[1:]) / 2.0 * DAYS_PER_WEEK / DAYS_PER_YEAR


def cost_line(rng: np.random.Generator, svc: Service, x: Draws, base: str, d: int, grid: MonthGrid):
    """One draw of a non-placement line: gross monthly spend (GBP) at price-base prices."""
    annual, growth = x[f"{base}.cost.annual_gbp"][d], x[f"{base}.cost.growth"][d]
    spend = annual * grid.year_share() * (1.0 + growth) ** _years_since_start(grid)
    cv = svc.cost.monthly_cv
    if cv > 0:
        mu, sigma = _lognormal_from_mean(1.0, cv)
        spend = spend * np.exp(mu + sigma * rng.standard_normal(grid.n_months))
    return spend


def price_index(config: Config, x: Draws) -> np.ndarray:
    """Each service's price index by financial year, shape (D, S, Y).

    The index of a year is the product of (1 + uplift) over the Aprils after
    the price base up to that year, where an uplift is the service's
    weighted sum of the shared factors plus its own extra.
    """
    years = [parse_fy(y) for y in config.fy_labels]
    out = np.ones((x.n, len(config.services), len(years)))
    for s, (key, svc) in enumerate(config.services.items()):
        for label in config.uplift_years:
            uplift = x[f"services.{key}.inflation.extra[{label}]"].copy()
            for factor, weight in svc.inflation.factors.items():
                uplift += weight * x[f"inflation.factors.{factor}.uplift[{label}]"]
            takes_effect = np.array([y >= parse_fy(label) for y in years])
            out[:, s, takes_effect] *= (1.0 + uplift)[:, None]
    return out


def savings_delivered(config: Config, x: Draws) -> np.ndarray:
    """Savings delivered (GBP) per draw, service and year: target x delivery fraction."""
    out = np.zeros((x.n, len(config.services), config.horizon.years))
    for s, (key, svc) in enumerate(config.services.items()):
        for pid, saving in svc.savings.items():
            target = np.array([saving.target_gbp.value(y) or 0.0 for y in config.fy_labels])
            out[:, s] += x[f"services.{key}.savings.{pid}.delivery"][:, None] * target
    return out


def simulate(config: Config, draws: int, seed: int, charging: str = "overlap") -> ReferenceResult:
    """Run the model with numpy: inputs for all draws at once, then draw by draw.

    Parameters
    ----------
    config : Config
    draws : int
    seed : int
        Seeds this implementation's own generator (results differ from the
        engine's number by number, agree in distribution).
    charging : {"overlap", "difference"}
        How placements are charged to months (see the module docstring).

    Returns
    -------
    ReferenceResult

    Raises
    ------
    UnsupportedConfig
        For a config with a caseload snapshot or actuals (in-year monitoring).
    """
    if charging not in CHARGING:
        raise ValueError(f"charging = {charging!r}: must be one of {CHARGING}")
    if pathways_in(config):
        # Moves between services, ageing out and shared demand factors (issue 12) are
        # outside these yardsticks; the bench strips them (simulator.bench.yardsticks).
        raise UnsupportedConfig(
            "the numpy yardsticks do not model moves, ageing or shared demand factors: "
            + ", ".join(pathways_in(config))
        )
    if config.snapshot is not None or config.actuals is not None:
        # In-year monitoring (a caseload snapshot with planned end dates, months
        # fixed at actuals) is outside this yardstick: it models a plan made at
        # the start of the horizon.
        raise UnsupportedConfig(
            "the numpy reference does not model [snapshot] or [actuals] (in-year monitoring)"
        )
    rng = np.random.default_rng(seed)
    grid = month_grid(parse_fy(config.horizon.start), config.horizon.years)
    keys = list(config.services)
    plan = build_plan(config)  # only for the list of uncertain inputs and their inverse CDFs
    x = Draws(plan, rng.random((draws, len(plan.inputs))))
    params, seasons = {}, {}
    for key, svc in config.services.items():
        if svc.kind == "placements":
            params[key] = _service_params(svc, x, f"services.{key}")
            seasons[key] = _season(svc, grid)

    n_s, n_m = len(keys), grid.n_months
    gross = np.zeros((draws, n_s, n_m))
    caseload = np.zeros((draws, n_s, n_m), dtype=np.int64)
    arrivals = np.zeros((draws, n_s, n_m), dtype=np.int64)
    placements = 0
    for d in range(draws):
        for s, (key, svc) in enumerate(config.services.items()):
            if svc.kind == "placements":
                spend, load, new, n = placement_service(
                    rng, svc, _at(params[key], d), seasons[key], grid, charging
                )
                gross[d, s], caseload[d, s], arrivals[d, s] = spend, load, new
                placements += n
            else:
                gross[d, s] = cost_line(rng, svc, x, f"services.{key}", d, grid)

    gross *= price_index(config, x)[:, :, grid.fy_index]
    share = np.stack([x[f"services.{k}.income.share"] for k in keys], axis=1)
    income = gross * share[:, :, None]
    savings = savings_delivered(config, x)
    month_share = grid.days / grid.fy_days[grid.fy_index]
    spend = gross - income - savings[:, :, grid.fy_index] * month_share

    def by_year(a):
        return a.reshape(draws, n_s, grid.years, 12).sum(axis=3)

    budget = np.array(
        [[config.services[k].budget_gbp.value(y) for y in config.fy_labels] for k in keys]
    )
    outturn = by_year(spend)
    return ReferenceResult(
        keys=keys,
        spend=spend,
        caseload=caseload,
        arrivals=arrivals,
        gross=by_year(gross),
        income=by_year(income),
        savings=savings,
        outturn=outturn,
        overspend=outturn - budget,
        placements=placements,
    )
