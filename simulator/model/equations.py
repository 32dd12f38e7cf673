"""The model's equations, in the order a finance officer would explain them.

For each draw ``d`` (one possible future), service ``s``, month ``m`` and
financial year ``y``:

1. **Starting caseload.** Each placement open at the start has a remaining
   length drawn from the length distribution conditioned on the time it has
   already lasted (``kernels.sample_remaining``); with no elapsed times given,
   the caseload is taken to be in steady state, where remaining time has density
   S(r) / E[L] (``kernels.steady_state_parts_v``). With in-year actuals the
   simulation starts the day after the as-of date, from the actuals' month-end
   caseload of that month where they give one (else ``caseload.open``).
2. **Arrivals.** Expected new placements in month m::

       lambda[d,s,m] = per_year[d,s] * days[m] / days_in_year[m] * season[s,m] * (1 + growth[d,s]) ** t[m]

   with days_in_year[m] the days of month m's financial year (365 or 366) and
   t[m] the mid-month time in years since 1 April of the first year: per_year is
   the annual rate at the start of the horizon, compounding continuously. The
   growth rate is drawn once per draw. Shared demand factors multiply it by
   ``max(0, 1 + sum_f w[s,f] * shock[d,f,y])`` in financial year y (one shock per
   factor and year, common to the services weighted on it: ``demand_multiplier``).
   With dispersion phi > 0 the rate is multiplied by a Gamma(1/phi, phi)
   shock each month (negative binomial counts, variance = mean + phi mean^2).
   Arrivals ~ Poisson, at uniform times within the month.
3. **Placement length** in weeks from a lognormal, gamma, Weibull or
   exponential distribution whose scale may itself be uncertain per draw.
4. **Unit cost.** Weekly cost per placement, lognormal with the given mean and
   coefficient of variation; a share ``high_cost_share`` comes from a second,
   higher lognormal. A placement is charged for exactly the days it is open
   (``kernels.simulate_placements``), giving gross spend at price-base prices.
   Non-placement ``cost`` lines: annual_gbp * days[m] / days_in_year[m] * (1 + growth) ** t[m]
   times a mean-one lognormal monthly shock.
5. **Inflation.** Each April after the price base, a service's prices rise by::

       uplift[d,s,j] = sum_f weight[s,f] * factor[d,f,j] + extra[d,s,j]

   where the factors (care market, National Living Wage, ...) are shared by
   services, so a bad year hits several budgets at once. The price index for
   year y is the product of (1 + uplift) over every April up to y, and gross
   spend is multiplied by it.
6. **Income and savings.** net = gross * (1 - income_share[d,s]) - savings,
   where each programme delivers target[y] * delivery[d] spread over the
   year's months by days.
7. **Budget.** outturn[d,s,y] = sum of net spend over the year's months;
   overspend = outturn - budget (negative is an underspend).

Every uncertain number is an *input*: a named parameter drawn once per draw by
the inverse CDF of a uniform (``distributions``), so sensitivity designs can
supply their own uniforms.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field

import numpy as np
from scipy import special

from simulator.config.calendar import MonthGrid, month_grid, parse_fy
from simulator.config.distributions import Fixed, Param, Support, clip_to
from simulator.config.inputs import InputSpec, config_inputs
from simulator.config.schema import Config, Service
from simulator.model import kernels


@dataclass(frozen=True)
class Input:
    """One named model parameter (fixed or uncertain).

    Attributes
    ----------
    name : str
        Stable dotted name, e.g. ``services.ifa.arrivals.growth``.
    param : Param
        Its value or distribution.
    field : Support
        What values are allowed (draws are clipped into it).
    spec : InputSpec
        Its entry in the inputs table (units, words, description).
    """

    name: str
    param: Param
    field: Support
    spec: InputSpec


@dataclass(frozen=True)
class Group:
    """A row of the results: a service, a department subtotal, or the total."""

    key: str
    label: str
    kind: str  # "placements", "cost", "department" or "total"
    department: str
    members: tuple[int, ...]  # indices of the services it adds up


@dataclass(frozen=True)
class About:
    """What the results record of the config a plan came from (nothing the equations read)."""

    council: str
    price_base: str
    as_of: str  # ISO date of in-year actuals, or ""
    config_text: str  # the resolved config as TOML: the results explain themselves
    forecast_overspend: dict[str, float]  # the officer's own forecasts by result row, GBP
    placeholder_budgets: tuple[str, ...] = ()  # labels of lines whose budgets are stand-ins


@dataclass
class Plan:
    """A config compiled into the arrays the equations read. Build with :func:`build_plan`.

    After :func:`build_plan` nothing reads the config again: every number the
    equations use is here (``S`` services, ``P`` placement services, ``C``
    cost lines, ``M`` months, ``Y`` financial years).
    """

    about: About
    grid: MonthGrid
    years: int  # Y
    uplift_years: list[str]  # the financial years that start with an April uplift
    keys: list[str]
    params: dict[str, Input]
    placement: np.ndarray  # indices of placement services
    cost_lines: np.ndarray  # indices of cost lines
    family: np.ndarray  # int64[P]
    season: np.ndarray  # float64[P, M], mean one over each year weighted by days
    init_offsets: np.ndarray
    init_elapsed: np.ndarray
    init_cost: np.ndarray
    init_planned: np.ndarray  # weeks from the start month to a planned end; -1 for none
    start_month: int  # months before it are fixed at actuals
    actual_spend: np.ndarray  # float64[S, start_month], GBP
    actual_caseload: np.ndarray  # int32[S, start_month]
    budget: np.ndarray  # float64[S, Y], GBP
    uplifts_in_force: np.ndarray  # int64[Y]: Aprils since the price base by each year
    length_dist: list[str]  # [P] length family of each placement service
    dispersion: np.ndarray  # float64[P]: negative-binomial overdispersion of arrivals
    cost_cv: np.ndarray  # float64[P]: spread of weekly costs between clients
    tail_cv: np.ndarray  # float64[P]: the same for high-cost placements
    monthly_cv: np.ndarray  # float64[C]: month-to-month spread of each cost line
    factor_weights: list[tuple[tuple[str, float], ...]]  # [S] shared inflation factors used
    savings_targets: list[list[tuple[str, np.ndarray]]]  # [S] (programme, GBP by year)
    groups: list[Group] = field(default_factory=list)
    # [P] each placement service's weights on the shared demand factors
    demand_weights: list[tuple[tuple[str, float], ...]] = field(default_factory=list)
    # [P] each placement service's moves: (destination's placement index, its key)
    moves: list[tuple[tuple[int, str], ...]] = field(default_factory=list)
    # [P] the order the kernel simulates placement services in: sources before
    # the services they move to (config order without moves)
    move_order: np.ndarray | None = None
    # Ageing (see kernels.simulate_placements): leaving age in weeks [P] (0: none),
    # age band edges in weeks [P, B+1], cumulative shares of new and starting
    # placements [P, B], share of leavers continuing in each service [P, P]
    ageing: tuple[np.ndarray, ...] | None = None

    @property
    def inputs(self) -> list[Input]:
        """The uncertain parameters, in a fixed order: the columns of the input design."""
        return [p for p in self.params.values() if p.param.is_uncertain]


# ------------------------------------------------------------------ building the plan


def _all_params(config: Config) -> dict[str, Input]:
    """Every input of a config, named and ordered as the inputs table says."""
    return {
        name: Input(name, param, entry.allowed, entry)
        for name, param, entry in config_inputs(config)
    }


def _season(svc: Service, grid: MonthGrid) -> np.ndarray:
    weights = (
        np.ones(12) if svc.arrivals.seasonality is None else np.array(svc.arrivals.seasonality)
    )
    # Scale so a year's expected arrivals equal per_year whatever the weights.
    by_month = np.tile(weights, grid.years)
    per_year = np.bincount(grid.fy_index, weights=by_month * grid.days)
    return by_month * grid.fy_days[grid.fy_index] / per_year[grid.fy_index]


def _starting_caseload(
    key: str, config: Config, as_of_caseload: dict[str, int]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Elapsed weeks (-1: steady state), weekly cost (0: draw) and weeks to a planned end (-1: none).

    ``as_of_caseload`` is :attr:`Config.as_of_caseload`, read once for all services.
    """
    if config.snapshot is not None:
        snap = config.snapshot
        start = snap.as_of + dt.timedelta(days=1)  # the simulation starts the next day
        rows = [r for r in snap.placements if r.service == key]
        elapsed = np.array([(start - r.start_date).days / 7.0 for r in rows])
        cost = np.array([r.weekly_cost_gbp or 0.0 for r in rows])
        planned = np.array(
            [
                -1.0 if r.planned_end_date is None else (r.planned_end_date - start).days / 7.0
                for r in rows
            ]
        )
        return elapsed, cost, planned
    load = config.services[key].caseload
    # The actual month-end caseload on the as-of date restarts the simulation; the
    # checks have refused per-placement lists of another length.
    n = as_of_caseload.get(key, 0 if load is None else load.count)
    if n == 0:
        return np.empty(0), np.empty(0), np.empty(0)
    if load is None or load.elapsed_weeks is None:
        elapsed = np.full(n, -1.0)  # steady state
    else:
        elapsed = np.broadcast_to(np.asarray(load.elapsed_weeks, dtype=np.float64), (n,)).copy()
    known = load is not None and load.weekly_cost_gbp is not None
    cost = np.asarray(load.weekly_cost_gbp, float) if known else np.zeros(n)
    return elapsed, cost, np.full(n, -1.0)


def _actuals(config: Config, keys: list[str], grid: MonthGrid) -> tuple[np.ndarray, np.ndarray]:
    """Actual net spend and month-end caseload (0 where not given) for the fixed months."""
    k = config.actual_months
    spend, caseload = np.zeros((len(keys), k)), np.zeros((len(keys), k), dtype=np.int32)
    if config.actuals is not None:
        months = grid.month_labels()[:k]
        for row in config.actuals.months:
            s, m = keys.index(row.service), months.index(row.month)
            spend[s, m] = row.net_spend_gbp
            caseload[s, m] = row.caseload or 0
    return spend, caseload


def _groups(config: Config) -> list[Group]:
    """Result rows: each department's services then its subtotal, other services, the total."""
    keys = list(config.services)
    departments = list(
        dict.fromkeys(s.department for s in config.services.values() if s.department)
    )
    groups = []
    for dept in [*departments, ""]:
        members = tuple(i for i, k in enumerate(keys) if config.services[k].department == dept)
        groups += [
            Group(keys[i], config.service_label(keys[i]), config.services[keys[i]].kind, dept, (i,))
            for i in members
        ]
        if dept:
            groups.append(Group(dept, dept, "department", dept, members))
    groups.append(Group("total", "Total", "total", "", tuple(range(len(keys)))))
    return groups


def build_plan(config: Config) -> Plan:
    """Compile a validated config into arrays for the engine.

    Parameters
    ----------
    config : Config

    Returns
    -------
    Plan
    """
    start = parse_fy(config.horizon.start)
    grid = month_grid(start, config.horizon.years)
    keys = list(config.services)
    kinds = [config.services[k].kind for k in keys]
    placement = np.array([i for i, k in enumerate(kinds) if k == "placements"], dtype=np.int64)
    cost_lines = np.array([i for i, k in enumerate(kinds) if k == "cost"], dtype=np.int64)
    placement_svcs = [config.services[keys[i]] for i in placement]
    as_of_caseload = config.as_of_caseload
    starts = [_starting_caseload(keys[i], config, as_of_caseload) for i in placement]
    sizes = [len(e) for e, _, _ in starts]
    actual_spend, actual_caseload = _actuals(config, keys, grid)
    budget = np.array(
        [[config.services[k].budget_gbp.value(y) for y in config.fy_labels] for k in keys]
    )
    base = parse_fy(config.price_base)
    cost_svcs = [config.services[keys[i]] for i in cost_lines]
    return Plan(
        about=_about(config),
        grid=grid,
        years=config.horizon.years,
        uplift_years=list(config.uplift_years),
        keys=keys,
        params=_all_params(config),
        placement=placement,
        cost_lines=cost_lines,
        family=np.array([kernels.FAMILY_CODES[s.length.dist] for s in placement_svcs], np.int64),
        season=np.array([_season(s, grid) for s in placement_svcs]).reshape(-1, grid.n_months),
        init_offsets=np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64),
        init_elapsed=np.concatenate([e for e, _, _ in starts] + [np.empty(0)]),
        init_cost=np.concatenate([c for _, c, _ in starts] + [np.empty(0)]),
        init_planned=np.concatenate([p for _, _, p in starts] + [np.empty(0)]),
        start_month=config.actual_months,
        actual_spend=actual_spend,
        actual_caseload=actual_caseload,
        budget=budget.astype(np.float64),
        uplifts_in_force=np.arange(config.horizon.years) + start - base,
        length_dist=[s.length.dist for s in placement_svcs],
        dispersion=np.array([s.arrivals.dispersion for s in placement_svcs], dtype=np.float64),
        cost_cv=np.array([s.unit_cost.cv for s in placement_svcs], dtype=np.float64),
        tail_cv=np.array([s.unit_cost.high_cost_cv for s in placement_svcs], dtype=np.float64),
        monthly_cv=np.array([s.cost.monthly_cv for s in cost_svcs], dtype=np.float64),
        factor_weights=[tuple(config.services[k].inflation.factors.items()) for k in keys],
        savings_targets=[_savings_targets(config, k) for k in keys],
        groups=_groups(config),
        demand_weights=[tuple((s.arrivals.demand or {}).items()) for s in placement_svcs],
        **_moves(config, [keys[i] for i in placement]),
        ageing=_ageing(config, [keys[i] for i in placement]),
    )


def _ageing(config: Config, placement_keys: list[str]) -> tuple[np.ndarray, ...]:
    """The kernel's ageing arrays (see :class:`Plan`); all zero without ageing."""
    from simulator.config.schema import age_bands

    n = len(placement_keys)
    index = {k: j for j, k in enumerate(placement_keys)}
    shares = [config.services[k].ageing for k in placement_keys]
    bands = max((len(a.age_at_entry) for a in shares if a), default=1)
    bands = max([bands] + [len(a.open_ages) for a in shares if a and a.open_ages])
    leave = np.zeros(n)
    edges, entry, open_ = np.zeros((n, bands + 1)), np.ones((n, bands)), np.ones((n, bands))
    onward = np.zeros((n, n))
    for j, ageing in enumerate(shares):
        if ageing is None:
            continue
        leave[j] = ageing.leave_at * WEEKS_PER_YEAR
        for out, table in ((entry, ageing.age_at_entry), (open_, ageing.open_ages)):
            parts = age_bands(table or ageing.age_at_entry)
            # Gaps between bands become bands with no share, so one set of edges serves.
            cuts = sorted({x for lo, hi, _ in age_bands(ageing.age_at_entry) for x in (lo, hi)})
            cuts = sorted(set(cuts) | {x for lo, hi, _ in parts for x in (lo, hi)})
            if len(cuts) - 1 > out.shape[1]:
                raise AssertionError("age bands wider than planned")
            weight = np.zeros(len(cuts) - 1)
            for lo, hi, share in parts:
                for b in range(len(cuts) - 1):
                    if lo <= cuts[b] and cuts[b + 1] <= hi:
                        weight[b] += share * (cuts[b + 1] - cuts[b]) / (hi - lo)
            cdf = np.cumsum(weight) / weight.sum()
            cdf[-1] = 1.0
            out[j, : cdf.size] = cdf
            edges[j, : len(cuts)] = np.array(cuts) * WEEKS_PER_YEAR
            edges[j, len(cuts) :] = cuts[-1] * WEEKS_PER_YEAR
        for to, share in ageing.continue_to.items():
            onward[j, index[to]] = share
    return leave, edges, entry, open_, onward


def _moves(config: Config, placement_keys: list[str]) -> dict:
    """Each placement service's moves and an order that simulates sources first."""
    index = {k: j for j, k in enumerate(placement_keys)}
    from simulator.config.checks import onward_services

    moves = [
        tuple((index[to], to) for to in (config.services[k].moves or {})) for k in placement_keys
    ]
    onward = [
        tuple(index[to] for to in onward_services(config.services[k])) for k in placement_keys
    ]
    order, done = [], set()

    def place(j: int) -> None:  # depth first: everything that moves into j goes before it
        if j in done:
            return
        done.add(j)
        for i, outgoing in enumerate(onward):
            if j in outgoing:
                place(i)
        order.append(j)

    for j in range(len(placement_keys)):
        place(j)
    return {"moves": moves, "move_order": np.array(order, dtype=np.int64)}


def _savings_targets(config: Config, key: str) -> list[tuple[str, np.ndarray]]:
    """Each savings programme of a service and its target by financial year, GBP."""
    return [
        (pid, np.array([saving.target_gbp.value(y) or 0.0 for y in config.fy_labels]))
        for pid, saving in config.services[key].savings.items()
    ]


def _about(config: Config) -> About:
    from simulator.config.load import dumps_config

    forecast = {} if config.actuals is None else dict(config.actuals.forecast_overspend_gbp)
    return About(
        council=config.council.name,
        price_base=config.price_base,
        as_of="" if config.as_of is None else config.as_of.isoformat(),
        config_text=dumps_config(config),
        forecast_overspend=forecast,
        placeholder_budgets=config.placeholder_budgets,
    )


# ------------------------------------------------------------------ per-draw parameters


class Draws:
    """Realised parameter values for a chunk of draws.

    Parameters
    ----------
    plan : Plan
    u : numpy.ndarray
        Uniforms, shape ``(n_draws, len(plan.inputs))``: one column per uncertain input.
    """

    def __init__(self, plan: Plan, u: np.ndarray):
        self.n = u.shape[0]
        self._values = {
            inp.name: clip_to(inp.field, inp.param.ppf(u[:, k]))
            for k, inp in enumerate(plan.inputs)
        }
        self._plan = plan

    def __getitem__(self, name: str) -> np.ndarray:
        """Values of parameter ``name`` for each draw, shape ``(n_draws,)``."""
        if name in self._values:
            return self._values[name]
        param = self._plan.params[name].param
        assert isinstance(param, Fixed), name
        return np.full(self.n, param.value)

    def get(self, name: str) -> np.ndarray | None:
        """Like indexing, but ``None`` for a parameter the config leaves out."""
        return self[name] if name in self._plan.params else None

    def matrix(self, names: list[str]) -> np.ndarray:
        """Values of several parameters, shape ``(n_draws, len(names))``."""
        return np.stack([self[n] for n in names], axis=1) if names else np.empty((self.n, 0))


def length_parameters(dist: str, x: Draws, base: str) -> tuple[np.ndarray, np.ndarray]:
    """Kernel parameters (p1, p2) of a service's length distribution (family ``dist``), per draw.

    Converts the analyst's median or mean in weeks plus a shape into the
    family's natural parameters (see :mod:`simulator.model.kernels`).
    """
    median = x.get(f"{base}.length.median_weeks")
    mean = x.get(f"{base}.length.mean_weeks")
    if dist == "lognormal":
        sigma = x[f"{base}.length.sigma"]
        mu = np.log(median) if median is not None else np.log(mean) - 0.5 * sigma**2
        return mu, sigma
    if dist == "gamma":
        k = x[f"{base}.length.shape"]
        scale = mean / k if mean is not None else median / special.gammaincinv(k, 0.5)
        return k, scale
    if dist == "weibull":
        k = x[f"{base}.length.shape"]
        if mean is not None:
            return k, mean / special.gamma(1.0 + 1.0 / k)
        return k, median / np.log(2.0) ** (1.0 / k)
    scale = mean if mean is not None else median / math.log(2.0)
    return scale, np.zeros_like(scale)


def _lognormal_mu_sigma(mean: np.ndarray, cv: float) -> tuple[np.ndarray, float]:
    sigma2 = math.log1p(cv * cv)
    return np.log(mean) - 0.5 * sigma2, math.sqrt(sigma2)


def _growth_factor(growth: np.ndarray, grid: MonthGrid) -> np.ndarray:
    """(1 + growth) ** t for each draw and month, shape ``(n, M)``."""
    return np.exp(np.log1p(growth)[:, None] * grid.years_since_start()[None, :])


# ------------------------------------------------------------------ the equations


@dataclass
class ChunkResult:
    """Outputs for a chunk of draws (S services, M months, Y financial years)."""

    spend: np.ndarray  # (n, S, M) net spend, GBP
    caseload: np.ndarray  # (n, S, M) open at month end
    arrivals: np.ndarray  # (n, S, M)
    gross: np.ndarray  # (n, S, Y) gross outturn, GBP
    income: np.ndarray  # (n, S, Y) income, GBP
    savings: np.ndarray  # (n, S, Y) savings delivered, GBP
    inputs: np.ndarray  # (n, K) values of the uncertain inputs
    high_cost: np.ndarray  # (n, S, Y) high-cost placements open in the year
    extended: np.ndarray  # (n, S, Y) snapshot placements' planned ends extended in the year
    from_children: np.ndarray  # (n, S, Y) outturn (after income) of those from children's care
    from_children_caseload: np.ndarray  # (n, S, Y) of them open at the year's end
    stream_end: (
        np.ndarray
    )  # uint64[4]: the kernel generator's final state (which case-level variates were used)


def expected_arrivals(plan: Plan, x: Draws) -> np.ndarray:
    """Equation 2 before the monthly shocks: expected new placements per month, (n, P, M)."""
    grid = plan.grid
    out = np.empty((x.n, plan.placement.size, grid.n_months))
    for j, i in enumerate(plan.placement):
        base = f"services.{plan.keys[i]}"
        rate = x[f"{base}.arrivals.per_year"][:, None] * grid.year_share()[None, :]
        out[:, j, :] = rate * plan.season[j] * _growth_factor(x[f"{base}.arrivals.growth"], grid)
        if plan.demand_weights and plan.demand_weights[j]:
            out[:, j, :] *= demand_multiplier(plan, x, j)[:, grid.fy_index]
    return out


def demand_multiplier(plan: Plan, x: Draws, j: int) -> np.ndarray:
    """Equation 2's shared demand: placement service ``j``'s arrival multiplier, (n, Y).

    ``max(0, 1 + sum_f weight[j,f] * shock[d,f,y])``: shared by every service
    weighted on a factor, so their demand moves together in a bad year.
    """
    total = np.zeros((x.n, plan.years))
    for factor, weight in plan.demand_weights[j]:
        for y, year in enumerate(plan.grid.fy_labels):
            total[:, y] += weight * x[f"demand.factors.{factor}.shock[{year}]"]
    return np.maximum(1.0 + total, 0.0)


def draw_arrivals(plan: Plan, x: Draws, rng: np.random.Generator) -> np.ndarray:
    """Equation 2: new placements per month, negative binomial via gamma shocks."""
    mean = expected_arrivals(plan, x)
    mean[:, :, : plan.start_month] = 0.0  # months fixed at actuals are not simulated
    for j, phi in enumerate(plan.dispersion):
        if phi > 0:
            mean[:, j, :] *= rng.gamma(1.0 / phi, phi, size=mean[:, j, :].shape)
    return rng.poisson(mean).astype(np.int64)


def placement_spend(
    plan: Plan,
    x: Draws,
    arrivals: np.ndarray,
    rng: np.random.Generator,
    counts: np.ndarray | None = None,
):
    """Equations 1, 3 and 4 for placement services: the numba kernel.

    Returns gross spend at price-base prices (n, P, M), month-end caseload
    (n, P, M), the kernel generator's final state (four words), and per
    financial year the high-cost placements open and the planned ends extended
    (n, P, Y each) with the spend and caseload of placements that came from a
    children's service at its leaving age (n, P, M each). The
    benchmark passes ``counts`` (``int64[kernels.N_COUNTERS]``) to have the
    kernel's random variates added up by kind; the model itself never needs them.
    """
    n, n_place, n_months = x.n, plan.placement.size, plan.grid.n_months
    p1, p2 = np.empty((n, n_place)), np.empty((n, n_place))
    cost_mu, tail_share, tail_mu = (
        np.empty((n, n_place)),
        np.zeros((n, n_place)),
        np.zeros((n, n_place)),
    )
    cost_sigma, tail_sigma = np.empty(n_place), np.zeros(n_place)
    for j, i in enumerate(plan.placement):
        base = f"services.{plan.keys[i]}"
        p1[:, j], p2[:, j] = length_parameters(plan.length_dist[j], x, base)
        cost_mu[:, j], cost_sigma[j] = _lognormal_mu_sigma(
            x[f"{base}.unit_cost.mean_gbp_per_week"], plan.cost_cv[j]
        )
        tail_mean = x.get(f"{base}.unit_cost.high_cost_mean_gbp_per_week")
        if tail_mean is not None:
            tail_share[:, j] = x[f"{base}.unit_cost.high_cost_share"]
            tail_mu[:, j], tail_sigma[j] = _lognormal_mu_sigma(tail_mean, plan.tail_cv[j])
    spend = np.empty((n, n_place, n_months))
    caseload = np.zeros((n, n_place, n_months), dtype=np.int32)
    high_cost = np.zeros((n, n_place, plan.years), dtype=np.int32)
    extended = np.zeros((n, n_place, plan.years), dtype=np.int32)
    came_spend = np.zeros((n, n_place, n_months))
    came_caseload = np.zeros((n, n_place, n_months), dtype=np.int32)
    if counts is None:
        counts = np.zeros(kernels.N_COUNTERS, dtype=np.int64)
    state = kernels.seed_state(rng)
    ext = x.get("snapshot.extension_probability")
    extend = np.repeat((np.zeros(n) if ext is None else ext)[:, None], n_place, axis=1)
    kernels.simulate_placements(
        state, plan.grid.edges_weeks, plan.grid.month_of_day(), plan.start_month,
        plan.family, p1, p2, arrivals,
        plan.init_offsets, plan.init_elapsed, plan.init_cost, plan.init_planned, extend,
        cost_mu, cost_sigma, tail_share, tail_mu, tail_sigma,
        spend, caseload, counts, *move_laws(plan, x), *plan.ageing,
        plan.grid.edges_weeks[::12].copy(), high_cost, extended, came_spend, came_caseload,
    )  # fmt: skip
    stream_end = np.array([state[0][w] for w in ("s0", "s1", "s2", "s3")], np.uint64)
    return spend, caseload, stream_end, (high_cost, extended, came_spend, came_caseload)


#: Weeks in a year, for rates given per year (a year of 365.25 days).
WEEKS_PER_YEAR = 365.25 / 7.0


def move_laws(plan: Plan, x: Draws) -> tuple[np.ndarray, np.ndarray]:
    """Equation 1b, moves: the order to simulate services in and the move rates.

    An open placement of service p moves to service q at ``rate[d, p, q]`` per
    week (its ``moves.<q>.per_year`` over the weeks of a year), competing with
    its own end: the first to come ends it in p, and a move starts a placement
    in q on that date with q's length and cost laws.

    Returns
    -------
    order : int64[P]
    rate : float64[n, P, P]
    """
    n_place = plan.placement.size
    rate = np.zeros((x.n, n_place, n_place))
    for j, outgoing in enumerate(plan.moves):
        base = f"services.{plan.keys[plan.placement[j]]}"
        for dest, key in outgoing:
            rate[:, j, dest] = x[f"{base}.moves.{key}.per_year"] / WEEKS_PER_YEAR
    order = plan.move_order if plan.move_order is not None else np.arange(n_place)
    return order.astype(np.int64), rate


def cost_line_spend(plan: Plan, x: Draws, rng: np.random.Generator) -> np.ndarray:
    """Equation 4 for non-placement lines: gross spend at price-base prices (n, C, M)."""
    grid = plan.grid
    out = np.empty((x.n, plan.cost_lines.size, grid.n_months))
    for j, i in enumerate(plan.cost_lines):
        base = f"services.{plan.keys[i]}"
        annual = x[f"{base}.cost.annual_gbp"][:, None]
        out[:, j, :] = annual * grid.year_share() * _growth_factor(x[f"{base}.cost.growth"], grid)
        if plan.monthly_cv[j] > 0:
            mu, sigma = _lognormal_mu_sigma(np.ones(1), plan.monthly_cv[j])
            out[:, j, :] *= np.exp(mu + sigma * rng.standard_normal(out[:, j, :].shape))
    return out


def price_index(plan: Plan, x: Draws) -> np.ndarray:
    """Equation 5: each service's price index by financial year, shape (n, S, Y)."""
    n, years = x.n, plan.uplift_years
    index = np.ones((n, len(plan.keys), plan.years))
    for s, key in enumerate(plan.keys):
        uplift = np.zeros((n, len(years)))
        for j, year in enumerate(years):
            uplift[:, j] = x[f"services.{key}.inflation.extra[{year}]"]
            for factor, weight in plan.factor_weights[s]:
                uplift[:, j] += weight * x[f"inflation.factors.{factor}.uplift[{year}]"]
        cumulative = np.concatenate([np.ones((n, 1)), np.cumprod(1.0 + uplift, axis=1)], axis=1)
        index[:, s, :] = cumulative[:, plan.uplifts_in_force]
    return index


def savings_delivered(plan: Plan, x: Draws) -> np.ndarray:
    """Equation 6: savings delivered by financial year, GBP, shape (n, S, Y)."""
    out = np.zeros((x.n, len(plan.keys), plan.years))
    for s, key in enumerate(plan.keys):
        for pid, target in plan.savings_targets[s]:
            out[:, s, :] += x[f"services.{key}.savings.{pid}.delivery"][:, None] * target[None, :]
    return out


def fix_actual_months(plan: Plan, spend, gross, income, caseload) -> None:
    """Months before the as-of date are the actuals: the same in every draw.

    The actual net spend stands for the month's gross spend too (income and savings
    are inside it), and the caseload is the actuals file's where it gives one.
    """
    k = plan.start_month
    if k:
        spend[:, :, :k] = plan.actual_spend
        gross[:, :, :k] = plan.actual_spend
        income[:, :, :k] = 0.0
        caseload[:, :, :k] = plan.actual_caseload


# ------------------------------------------------------------------ 7. budget: rows and years


def add_rows(plan: Plan, by_service: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """Equation 7's rows: services, then department subtotals, then the total.

    Parameters
    ----------
    plan : Plan
    by_service : numpy.ndarray
        Shape ``(n, S, ...)``: any per-service quantity (spend, caseload, outturn).
    out : numpy.ndarray, optional
        Shape ``(n, G, ...)``, filled in place (no temporary copies: the engine
        calls this in the main thread while the workers simulate).

    Returns
    -------
    numpy.ndarray
        Shape ``(n, G, ...)`` in the row order of ``plan.groups``; each row adds
        its members one by one in service order.
    """
    if out is None:
        shape = (by_service.shape[0], len(plan.groups), *by_service.shape[2:])
        out = np.empty(shape, by_service.dtype)
    if out.dtype == by_service.dtype and out.flags.c_contiguous:
        # The same sums in one compiled pass (a sixth of the time of the loop below).
        members = np.array([m for group in plan.groups for m in group.members], dtype=np.int64)
        offsets = np.cumsum([0, *(len(group.members) for group in plan.groups)], dtype=np.int64)
        n, services, k = *by_service.shape[:2], math.prod(by_service.shape[2:])
        rows = out.reshape(n, len(plan.groups), k)  # a view: out is contiguous
        kernels.sum_rows(by_service.reshape(n, services, k), members, offsets, rows)
        return out
    for g, group in enumerate(plan.groups):
        first, *rest = group.members
        out[:, g] = by_service[:, first]
        for member in rest:
            out[:, g] += by_service[:, member]
    return out


def row_budgets(plan: Plan) -> np.ndarray:
    """Each result row's budget, GBP, shape ``(G, Y)``."""
    return np.array([plan.budget[list(g.members)].sum(axis=0) for g in plan.groups])


def year_totals(monthly: np.ndarray) -> np.ndarray:
    """Equation 7: sums of months ``(..., M)`` over each financial year, shape ``(..., Y)``."""
    return monthly.reshape(*monthly.shape[:-1], monthly.shape[-1] // 12, 12).sum(axis=-1)


def overspend(outturn: np.ndarray, budget: np.ndarray) -> np.ndarray:
    """Equation 7: overspend = outturn - budget (negative is an underspend), GBP."""
    return outturn - budget


def overspend_rows(plan: Plan, result: ChunkResult) -> np.ndarray:
    """Overspend of every result row in every year of a chunk, GBP, shape ``(n, G, Y)``.

    Sums commute, so the years are added before the rows here (smaller arrays
    for the many small runs of a sensitivity design) and after them in the
    engine, which keeps the monthly rows.
    """
    return overspend(add_rows(plan, year_totals(result.spend)), row_budgets(plan)[None])


# ------------------------------------------------------------------ the whole chain


def simulate_chunk(
    plan: Plan,
    rng: np.random.Generator,
    n_draws: int,
    u: np.ndarray | None = None,
    counts: np.ndarray | None = None,
) -> ChunkResult:
    """Run the whole model for ``n_draws`` draws with one generator.

    Parameters
    ----------
    plan : Plan
    rng : numpy.random.Generator
        The chunk's own stream; everything random is drawn from it in a fixed order.
    n_draws : int
    u : numpy.ndarray, optional
        Uniforms for the uncertain inputs, shape ``(n_draws, len(plan.inputs))``;
        drawn from ``rng`` when not given (a sensitivity design passes its own).
    counts : numpy.ndarray, optional
        For the benchmark only: the kernel's random variates are added to it by
        kind (see :func:`placement_spend`).

    Returns
    -------
    ChunkResult
    """
    grid, n_services = plan.grid, len(plan.keys)
    if u is None:
        u = rng.random((n_draws, len(plan.inputs)))
    x = Draws(plan, u)
    arrivals = draw_arrivals(plan, x, rng)
    placed, placed_caseload, stream_end, extra = placement_spend(plan, x, arrivals, rng, counts)
    placed_high, placed_ext, came_spend, came_caseload = extra

    gross_base = np.empty((n_draws, n_services, grid.n_months))
    gross_base[:, plan.placement] = placed
    gross_base[:, plan.cost_lines] = cost_line_spend(plan, x, rng)
    price = price_index(plan, x)[:, :, grid.fy_index]
    gross = gross_base * price

    share = x.matrix([f"services.{k}.income.share" for k in plan.keys])
    income = gross * share[:, :, None]
    # Savings are spread over the year's months by days; months already fixed at
    # actuals have their savings in the actuals.
    month_share = grid.year_share()
    month_share[: plan.start_month] = 0.0
    saved = savings_delivered(plan, x)[:, :, grid.fy_index] * month_share
    spend = gross - income - saved

    caseload = np.zeros((n_draws, n_services, grid.n_months), dtype=np.int32)
    caseload[:, plan.placement] = placed_caseload
    all_arrivals = np.zeros_like(caseload)
    all_arrivals[:, plan.placement] = arrivals
    fix_actual_months(plan, spend, gross, income, caseload)

    def by_year(a: np.ndarray) -> np.ndarray:
        return np.add.reduceat(a, np.arange(0, grid.n_months, 12), axis=2)

    return ChunkResult(
        spend=spend,
        caseload=caseload,
        arrivals=all_arrivals,
        gross=by_year(gross),
        income=by_year(income),
        savings=by_year(saved),
        inputs=x.matrix([inp.name for inp in plan.inputs]),
        high_cost=_by_service(plan, placed_high),
        extended=_by_service(plan, placed_ext),
        **_from_children(plan, came_spend, came_caseload, price, share, by_year),
        stream_end=stream_end,
    )


def _from_children(plan: Plan, came_spend, came_caseload, price, share, by_year) -> dict:
    """The transitions breakdown (n, S, Y each): zeros, without the arithmetic, when no
    children's service has leavers continuing anywhere (most councils)."""
    n, years = came_spend.shape[0], plan.years
    if not plan.ageing or not plan.ageing[-1].any():
        zeros = np.zeros((n, len(plan.keys), years))
        return {"from_children": zeros, "from_children_caseload": zeros.astype(np.int32)}
    net = _by_service(plan, came_spend) * price * (1.0 - share[:, :, None])
    return {
        "from_children": by_year(net),
        "from_children_caseload": _by_service(plan, came_caseload)[:, :, 11::12],
    }


def _by_service(plan: Plan, placed: np.ndarray) -> np.ndarray:
    """Placement services' (n, P, ...) arrays as (n, S, ...), zero for cost lines."""
    out = np.zeros((placed.shape[0], len(plan.keys), placed.shape[2]), dtype=placed.dtype)
    out[:, plan.placement] = placed
    return out
