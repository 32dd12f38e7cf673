"""A plain-English description of a config, for ``overspend validate``.

Console text: numbers from :mod:`simulator.present.numbers` with an ASCII minus.
"""

from __future__ import annotations

from simulator.config.distributions import Param
from simulator.config.schema import Config, Service
from simulator.present.inputs import uncertain_inputs
from simulator.present.numbers import by_year, count, fixed, gbp, pct1


def _pct(x: float) -> str:
    return pct1(x, minus="-")


def _gbp(x: float) -> str:
    return gbp(x, minus="-")


def _num(x: float) -> str:
    return count(x, digits=3)


def _p(param: Param, fmt) -> str:
    return param.describe(fmt)


def _by_year(money, years: list[str]) -> str:
    return by_year(money, years, _gbp)


def _length(svc: Service) -> str:
    length = svc.length
    scale = (
        f"median {_p(length.median_weeks, _num)} weeks"
        if length.median_weeks is not None
        else f"mean {_p(length.mean_weeks, _num)} weeks"
    )
    shape = ""
    if length.sigma is not None:
        shape = f", sigma {_p(length.sigma, lambda x: fixed(x, 2))}"
    elif length.shape is not None:
        shape = f", shape {_p(length.shape, lambda x: fixed(x, 2))}"
    return f"lengths {length.dist}, {scale}{shape}"


def _snapshot_tally(config: Config) -> dict[str, list[int]]:
    """Per service: snapshot placements, those with a weekly cost, those with a planned end.

    One pass over the snapshot (it may list a million placements), for every service.
    """
    tally: dict[str, list[int]] = {}
    for r in config.snapshot.placements if config.snapshot is not None else ():
        counts = tally.setdefault(r.service, [0, 0, 0])
        counts[0] += 1
        counts[1] += r.weekly_cost_gbp is not None
        counts[2] += r.planned_end_date is not None
    return tally


def _opening(config: Config, key: str, tally: dict[str, list[int]]) -> str:
    """Who is open when the simulation starts: the snapshot, the actuals or ``caseload``."""
    if config.snapshot is not None:
        n = tally.get(key, [0])[0]
        return f"{n:,} open on {config.snapshot.as_of:%d %B %Y} (the snapshot)"
    load = config.services[key].caseload
    when = "at the start" if config.as_of is None else f"on {config.as_of:%d %B %Y}"
    restart = config.as_of_caseload.get(key)
    n = restart if restart is not None else (0 if load is None else load.count)
    if not n:
        return f"no placements open {when}"
    how = "steady state" if load is None or load.elapsed_weeks is None else "given elapsed times"
    return f"{n:,} open {when} ({how}{', from the actuals' if restart is not None else ''})"


def _ageing(config: Config, ageing) -> str:
    """Leaving age, who continues where, and the ages at entry, in one line."""
    onward = "; ".join(
        f"{_pct(share).replace('.0%', '%')} continue in {config.service_label(to)}"
        for to, share in ageing.continue_to.items()
    )
    bands = ", ".join(f"{k} {_pct(v).replace('.0%', '%')}" for k, v in ageing.age_at_entry.items())
    return (
        f"placements end at {ageing.leave_at:g}"
        + (f"; {onward}" if onward else "; none continue in adults' services")
        + f"; ages at entry {bands}"
    )


def _placements(config: Config, key: str, tally: dict[str, list[int]]) -> list[str]:
    svc = config.services[key]
    lines = [_opening(config, key, tally)]
    arr = svc.arrivals
    text = f"{_p(arr.per_year, _num)} new a year, growing {_p(arr.growth, _pct)} a year"
    if arr.dispersion > 0:
        text += f", monthly overdispersion {arr.dispersion:g}"
    if arr.seasonality is not None:
        text += ", seasonal"
    if arr.demand:
        text += ", moved by demand factors " + " ".join(
            f"{n} x{w:g}" for n, w in arr.demand.items()
        )
    lines.append(text)
    lines.append(_length(svc))
    for to, move in (svc.moves or {}).items():
        rate = _p(move.per_year, lambda x: count(x, digits=2))
        lines.append(f"moves to {config.service_label(to)}, per open placement a year: {rate}")
    if svc.ageing is not None:
        lines.append(_ageing(config, svc.ageing))
    cost = svc.unit_cost
    text = f"{_p(cost.mean_gbp_per_week, _gbp)} a week on average (spread between clients cv {cost.cv:g})"
    if cost.high_cost_mean_gbp_per_week is not None:
        text += f"; {_p(cost.high_cost_share, _pct)} at {_p(cost.high_cost_mean_gbp_per_week, _gbp)} a week"
    lines.append(text)
    return lines


def _common(svc: Service, years: list[str]) -> list[str]:
    lines = []
    infl = svc.inflation
    parts = [f"{name} x{w:g}" for name, w in infl.factors.items()]
    if infl.extra.is_uncertain or infl.extra.median() != 0:
        parts.append(f"plus {_p(infl.extra, _pct)}")
    if parts:
        lines.append("prices rise each April with " + " ".join(parts))
    share = svc.income.share
    if share.is_uncertain or share.median() > 0:
        lines.append(f"income recovers {_p(share, _pct)} of gross cost")
    for sid, saving in svc.savings.items():
        label = saving.label or sid.replace("_", " ")
        lines.append(
            f"saving '{label}': target {_by_year(saving.target_gbp, years)}, delivering "
            f"{_p(saving.delivery, _pct)} of it"
        )
    lines.append(f"budget {_by_year(svc.budget_gbp, years)}")
    return lines


def describe(config: Config) -> str:
    """Describe the model a config defines, in a screenful of plain English.

    Parameters
    ----------
    config : Config

    Returns
    -------
    str
    """
    years = config.fy_labels
    out = [
        f"{config.council.name}: {len(years)} financial year(s), {years[0]} to {years[-1]}, "
        f"monthly steps; unit costs at {config.price_base} prices.",
        f"Default run: {config.run.draws:,} draws, seed {config.run.seed}.",
    ]
    if config.inflation.factors:
        out.append("Shared inflation factors (uplift each April after the price base):")
        for name, factor in config.inflation.factors.items():
            note = f" - {factor.description}" if factor.description else ""
            special = f" (set separately for {', '.join(factor.by_year)})" if factor.by_year else ""
            out.append(f"  {name}: {_p(factor.uplift, _pct)}{special}{note}")
    if config.demand is not None and config.demand.factors:
        out.append("Shared demand factors (a shock to new placements each financial year):")
        for name, factor in config.demand.factors.items():
            note = f" - {factor.description}" if factor.description else ""
            special = f" (set separately for {', '.join(factor.by_year)})" if factor.by_year else ""
            out.append(f"  {name}: {_p(factor.shock, _pct)}{special}{note}")
    departments = list(dict.fromkeys(s.department for s in config.services.values()))
    tally = _snapshot_tally(config)
    for dept in departments:
        out.append(f"{dept or 'Other services'}:")
        for key, svc in config.services.items():
            if svc.department != dept:
                continue
            out.append(f"  {config.service_label(key)} [{key}, {svc.kind}]")
            if svc.kind == "placements":
                body = _placements(config, key, tally)
            else:
                body = [
                    f"{_p(svc.cost.annual_gbp, _gbp)} a year, growing {_p(svc.cost.growth, _pct)} "
                    f"a year, month-to-month spread cv {svc.cost.monthly_cv:g}"
                ]
            out += [f"    - {line}" for line in body + _common(svc, years)]
    out += _in_year(config)
    out += _uncertain_inputs(config)
    out.append("Uncertain values show the median and the 10th to 90th percentile range.")
    return "\n".join(out)


def _in_year(config: Config) -> list[str]:
    """The in-year position: the snapshot and the actuals that fix the months to date."""
    out = []
    snap, act = config.snapshot, config.actuals
    if snap is not None:
        source = f" from {snap.source}" if snap.source else ""
        out.append(f"Caseload snapshot on {snap.as_of:%d %B %Y}{source}:")
        tally = _snapshot_tally(config)
        for key in config.services:
            if key in tally:
                listed, costs, ends = tally[key]
                out.append(
                    f"  {config.service_label(key)}: {listed:,} open, {costs:,} with a "
                    f"weekly cost, {ends:,} with a planned end"
                )
        extension = snap.extension_probability
        if extension.is_uncertain or extension.median() > 0:
            out.append(f"  a planned end runs on with chance {_p(extension, _pct)}")
    if act is not None and config.actual_months > 0:
        out += _actuals(config)
    return out


def _actuals(config: Config) -> list[str]:
    """What the actuals fix: months, spend to date by line, month-end caseloads, forecasts."""
    act = config.actuals
    k = config.actual_months
    source = f" from {act.source}" if act.source else ""
    months = "1 month" if k == 1 else f"{k} months"
    out = [
        f"Actual spend to {act.as_of:%d %B %Y}{source}: {months} fixed at actual net spend; "
        "the rest of the horizon is simulated from the next day."
    ]
    spent = dict.fromkeys(config.services, 0.0)
    for row in act.months:
        if row.service in spent:
            spent[row.service] += row.net_spend_gbp
    year = config.fy_labels[(k - 1) // 12]
    restart = config.as_of_caseload
    for key, amount in spent.items():
        svc = config.services[key]
        budget = svc.budget_gbp.value(year) or 0.0
        share = f" ({_pct(amount / budget)} of its {year} budget)" if budget > 0 else ""
        line = f"  {config.service_label(key)}: {_gbp(amount)} to date{share}"
        if svc.kind == "placements" and config.snapshot is None:
            if key in restart:
                line += f"; restarts from {restart[key]:,} open at the month end"
            else:
                open_ = 0 if svc.caseload is None else svc.caseload.count
                line += f"; no month-end caseload given, so starts from caseload.open = {open_:,}"
        out.append(line)
    for key, value in act.forecast_overspend_gbp.items():
        name = (
            "Total"
            if key == "total"
            else (config.service_label(key) if key in config.services else key)
        )
        out.append(f"  Officer's forecast overspend for {year}, {name}: {_gbp(value)}")
    return out


def _uncertain_inputs(config: Config) -> list[str]:
    """The inputs that differ between draws, in the words of the inputs table, one line each."""
    lines = uncertain_inputs(config, minus="-")
    if not lines:
        return ["No uncertain inputs: draws differ only by case-level chance."]
    out = ["Uncertain inputs (what `overspend sensitivity` ranks):"]
    for line in lines:
        when = f" ({', '.join(line.years)})" if line.years else ""
        out.append(f"  {line.label}{when}: {line.median} (80% between {line.low} and {line.high})")
    return out
