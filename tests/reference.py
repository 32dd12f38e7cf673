"""A slow, readable reference implementation of the model, for checking the engine.

Written independently of ``simulator.model.kernels`` and ``simulator.model.equations``: one
draw at a time, one placement at a time, lengths from ``scipy.stats``, remaining
lengths by inverting the conditional survival function, steady-state starts
by inverting the equilibrium distribution numerically, and each placement's
charge computed month by month from the overlap of its dates with the month.
Only the parameter distributions (``Param.ppf``, tested on their own against
scipy.stats) and the month calendar are shared with the package.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats

from simulator.config.calendar import month_grid, parse_fy
from simulator.config.schema import Config, Length


def length_distribution(length: Length, values: dict, base: str):
    """A frozen scipy.stats distribution for a service's lengths (weeks)."""
    median = values.get(f"{base}.length.median_weeks")
    mean = values.get(f"{base}.length.mean_weeks")
    if length.dist == "lognormal":
        sigma = values[f"{base}.length.sigma"]
        scale = median if median is not None else mean * math.exp(-(sigma**2) / 2)
        return stats.lognorm(s=sigma, scale=scale)
    if length.dist == "gamma":
        k = values[f"{base}.length.shape"]
        dist = stats.gamma(k)
        scale = mean / k if mean is not None else median / dist.median()
        return stats.gamma(k, scale=scale)
    if length.dist == "weibull":
        k = values[f"{base}.length.shape"]
        dist = stats.weibull_min(k)
        scale = mean / dist.mean() if mean is not None else median / dist.median()
        return stats.weibull_min(k, scale=scale)
    scale = mean if mean is not None else median / math.log(2)
    return stats.expon(scale=scale)


def steady_state_inverse(dist, n_points: int = 4000):
    """Inverse CDF of the equilibrium remaining time, density S(r) / E[L], by tabulation."""
    top = dist.ppf(1 - 1e-9)
    r = np.linspace(0.0, top, n_points)
    cdf = np.concatenate([[0.0], np.cumsum(np.diff(r) * 0.5 * (dist.sf(r[1:]) + dist.sf(r[:-1])))])
    cdf /= dist.mean()
    return lambda u: np.interp(u, cdf / cdf[-1], r)


def param_values(config: Config, rng: np.random.Generator) -> dict:
    """Draw every parameter once (the engine does the same, by name)."""
    from simulator.model.equations import build_plan

    plan = build_plan(config)
    return {
        name: float(inp.param.ppf(np.array([rng.random()]))[0]) for name, inp in plan.params.items()
    }


def overlap_weeks(start: float, end: float, edges: np.ndarray) -> np.ndarray:
    """Weeks of [start, end) falling in each month."""
    return np.clip(np.minimum(end, edges[1:]) - np.maximum(start, edges[:-1]), 0.0, None)


def draw_cost(svc, values: dict, base: str, rng: np.random.Generator) -> float:
    """Weekly cost of one placement: lognormal body or, with its share, the high-cost tail."""
    mean, cv = values[f"{base}.unit_cost.mean_gbp_per_week"], svc.unit_cost.cv
    tail_mean = values.get(f"{base}.unit_cost.high_cost_mean_gbp_per_week")
    if tail_mean is not None and rng.random() < values[f"{base}.unit_cost.high_cost_share"]:
        mean, cv = tail_mean, svc.unit_cost.high_cost_cv
    s2 = math.log1p(cv**2)
    return mean * math.exp(-s2 / 2 + math.sqrt(s2) * rng.standard_normal())


def starting_placements(svc, dist, values, base, rng) -> list[tuple[float, float, float]]:
    """(start, end, weekly cost) of each placement open at the start."""
    load = svc.caseload
    n_open = 0 if load is None else load.count
    inverse = steady_state_inverse(dist) if n_open and load.elapsed_weeks is None else None
    out = []
    for i in range(n_open):
        if inverse is not None:
            remaining = float(inverse(rng.random()))
        else:
            a = load.elapsed_weeks if np.isscalar(load.elapsed_weeks) else load.elapsed_weeks[i]
            # L | L > a by inverting the survival function: S(L) = u S(a)
            remaining = float(dist.isf(rng.random() * dist.sf(a))) - a
        cost = (
            load.weekly_cost_gbp[i] if load.weekly_cost_gbp else draw_cost(svc, values, base, rng)
        )
        out.append((0.0, remaining, cost))
    return out


def new_placements(svc, dist, values, base, rng, grid) -> list[tuple[float, float, float]]:
    """(start, end, weekly cost) of each placement starting within the horizon."""
    edges = grid.edges_weeks
    years_mid = 0.5 * (edges[:-1] + edges[1:]) * 7 / 365.25
    arr = svc.arrivals
    season = np.tile(
        np.ones(12) if arr.seasonality is None else np.array(arr.seasonality), grid.years
    )
    out = []
    for m in range(grid.n_months):
        fy = grid.fy_index == grid.fy_index[m]
        weight = season[m] * grid.days[fy].sum() / (season[fy] * grid.days[fy]).sum()
        mean = (
            values[f"{base}.arrivals.per_year"]
            * grid.days[m] / grid.days[fy].sum() * weight
            * (1 + values[f"{base}.arrivals.growth"]) ** years_mid[m]
        )  # fmt: skip
        if arr.dispersion > 0:
            mean *= rng.gamma(1 / arr.dispersion, arr.dispersion)
        for _ in range(rng.poisson(mean)):
            s = edges[m] + rng.random() * (edges[m + 1] - edges[m])
            out.append(
                (s, s + float(dist.rvs(random_state=rng)), draw_cost(svc, values, base, rng))
            )
    return out


def placement_gross(svc, values, base, rng, grid) -> tuple[np.ndarray, np.ndarray]:
    """Gross spend at price-base prices and month-end caseload of a placements service."""
    edges = grid.edges_weeks
    dist = length_distribution(svc.length, values, base)
    gross, open_at_end = np.zeros(grid.n_months), np.zeros(grid.n_months)
    placements = starting_placements(svc, dist, values, base, rng)
    placements += new_placements(svc, dist, values, base, rng, grid)
    for s, e, c in placements:
        gross += c * overlap_weeks(s, e, edges)
        open_at_end += (s < edges[1:]) & (e > edges[1:])
    return gross, open_at_end


def cost_line_gross(svc, values, base, rng, grid) -> np.ndarray:
    """Gross spend at price-base prices of a non-placement line."""
    edges = grid.edges_weeks
    years_mid = 0.5 * (edges[:-1] + edges[1:]) * 7 / 365.25
    annual, g = values[f"{base}.cost.annual_gbp"], values[f"{base}.cost.growth"]
    gross = annual * grid.days / grid.fy_days[grid.fy_index] * (1 + g) ** years_mid
    if svc.cost.monthly_cv > 0:
        s2 = math.log1p(svc.cost.monthly_cv**2)
        gross = gross * np.exp(-s2 / 2 + math.sqrt(s2) * rng.standard_normal(grid.n_months))
    return gross


def price_index(config: Config, svc, values, base) -> np.ndarray:
    """Price index by horizon year: the product of (1 + uplift) over Aprils since the base."""
    index = [1.0]
    for year in config.uplift_years:
        u = values[f"{base}.inflation.extra[{year}]"]
        for f, w in svc.inflation.factors.items():
            u += w * values[f"inflation.factors.{f}.uplift[{year}]"]
        index.append(index[-1] * (1 + u))
    start = parse_fy(config.horizon.start)
    return np.array(index)[np.arange(config.horizon.years) + start - parse_fy(config.price_base)]


def simulate_draw(config: Config, rng: np.random.Generator) -> dict[str, dict]:
    """One draw: net spend (GBP) and month-end caseload by service and month."""
    grid = month_grid(parse_fy(config.horizon.start), config.horizon.years)
    values = param_values(config, rng)
    spend, caseload = {}, {}
    for key, svc in config.services.items():
        base = f"services.{key}"
        if svc.kind == "cost":
            gross, open_at_end = (
                cost_line_gross(svc, values, base, rng, grid),
                np.zeros(grid.n_months),
            )
        else:
            gross, open_at_end = placement_gross(svc, values, base, rng, grid)
        gross = gross * price_index(config, svc, values, base)[grid.fy_index]
        net = gross * (1 - values[f"{base}.income.share"])
        for pid, saving in svc.savings.items():
            for y, label in enumerate(config.fy_labels):
                months = grid.fy_index == y
                delivered = (saving.target_gbp.value(label) or 0.0) * values[
                    f"{base}.savings.{pid}.delivery"
                ]
                net[months] -= delivered * grid.days[months] / grid.days[months].sum()
        spend[key], caseload[key] = net, open_at_end
    return {"spend": spend, "caseload": caseload}


def simulate(config: Config, draws: int, seed: int) -> dict[str, np.ndarray]:
    """Many draws: arrays (draws, services, months) in config order."""
    rng = np.random.default_rng(seed)
    runs = [simulate_draw(config, rng) for _ in range(draws)]
    keys = list(config.services)
    return {
        name: np.array([[r[name][k] for k in keys] for r in runs]) for name in ("spend", "caseload")
    }
