"""The report's "Key assumptions" section, written from the run's resolved config."""

from __future__ import annotations

import xarray as xr

from simulator.errors import UserError
from simulator.present.charts import RunInfo
from simulator.present.inputs import uncertain_inputs
from simulator.present.labels import factor_name as _factor_name
from simulator.present.numbers import by_year, count, gbp, pct1
from simulator.present.numbers import uncertain as param
from simulator.present.report.blocks import Block, Bullets, Heading, Paragraph, Table


def _service_assumptions(svc, years: list[str]) -> list[str]:
    items = []
    if svc.kind == "placements":
        n = 0 if svc.caseload is None else svc.caseload.count
        items.append(f"Placements open at the start: {n:,}")
        arr = svc.arrivals
        items.append(
            f"New placements: {param(arr.per_year, count, ' a year')}, growing "
            f"{param(arr.growth, pct1, ' a year')}"
            + (", with month-to-month surges" if arr.dispersion > 0 else "")
        )
        length = svc.length
        scale, value = (
            ("median", length.median_weeks)
            if length.median_weeks is not None
            else ("mean", length.mean_weeks)
        )
        items.append(f"Placement length: {scale} {param(value, count, ' weeks')} ({length.dist})")
        cost = svc.unit_cost
        text = (
            f"Weekly cost: {param(cost.mean_gbp_per_week, gbp, ' on average')} "
            f"(spread between clients: coefficient of variation {cost.cv:g})"
        )
        if cost.high_cost_mean_gbp_per_week is not None:
            text += (
                f"; {param(cost.high_cost_share, pct1)} of placements high-cost at "
                f"{param(cost.high_cost_mean_gbp_per_week, gbp, ' a week')}"
            )
        items.append(text)
    else:
        items.append(
            f"Annual cost: {param(svc.cost.annual_gbp, gbp)}, growing "
            f"{param(svc.cost.growth, pct1, ' a year')}"
        )
    factors = ", ".join(f"{_factor_name(k)} ×{w:g}" for k, w in svc.inflation.factors.items())
    if factors:
        items.append(f"Price rises each April: {factors}")
    if svc.inflation.extra.is_uncertain or svc.inflation.extra.median() != 0:
        items.append(f"Extra price rise: {param(svc.inflation.extra, pct1, ' a year')}")
    share = svc.income.share
    if share.is_uncertain or share.median() > 0:
        items.append(f"Income recovered: {param(share, pct1)} of gross cost")
    for sid, saving in svc.savings.items():
        items.append(
            f"Saving \u2018{saving.label or sid.replace('_', ' ')}\u2019: target "
            f"{by_year(saving.target_gbp, years)}; delivery {param(saving.delivery, pct1)} "
            "of target"
        )
    items.append(f"Budget: {by_year(svc.budget_gbp, years)}")
    return items


def key_assumptions(ds: xr.Dataset) -> list[Block]:
    """The "Key assumptions" section, generated from the run's resolved config.

    Uncertain values give the median and the 10th to 90th percentile range.
    """
    from simulator.config.load import loads_config

    run = RunInfo.from_dataset(ds)
    try:
        config = loads_config(ds.attrs["config"], "the run's config")
    except (KeyError, UserError) as exc:
        return [Paragraph(f"The run's configuration could not be read ({exc}).")]
    years = config.fy_labels
    blocks: list[Block] = [
        Paragraph(
            f"{run.draws:,} simulated outcomes, seed {run.seed}; financial years {years[0]} to "
            f"{years[-1]}; unit costs at {config.price_base} prices. Uncertain values show the "
            "median and, in brackets, the range holding the central 80% of draws."
        )
    ]
    if config.inflation.factors:
        items = []
        for name, factor in config.inflation.factors.items():
            text = f"{_factor_name(name)}: {param(factor.uplift, pct1, ' a year')}"
            for year, uplift in factor.by_year.items():
                text += f"; {year}: {param(uplift, pct1)}"
            if factor.description:
                text += f" \u2013 {factor.description}"
            items.append(text)
        blocks += [Heading("Price rises (shared by the services that use them)", 2), Bullets(items)]
    blocks += _uncertain_inputs_table(config)
    departments = list(dict.fromkeys(s.department for s in config.services.values()))
    for dept in departments:
        blocks.append(Heading(dept or "Other services", 2))
        for key, svc in config.services.items():
            if svc.department == dept:
                blocks += [
                    Heading(config.service_label(key), 3),
                    Bullets(_service_assumptions(svc, years)),
                ]
    return blocks


def _uncertain_inputs_table(config) -> list[Block]:
    """The inputs that differ between draws, from the one table of inputs, as a table."""
    lines = uncertain_inputs(config)
    if not lines:
        return []
    rows = [
        [
            line.label + (f" ({', '.join(line.years)})" if line.years else ""),
            line.median,
            f"{line.low} to {line.high}",
            line.description[0].upper() + line.description[1:],
        ]
        for line in lines
    ]
    columns = ["Uncertain input", "Median", "80% of draws", "What it is"]
    return [
        Heading("Uncertain inputs (what the sensitivity analysis ranks)", 2),
        Table(columns, rows, "lrrl", widths=[3.0, 1.4, 2.0, 3.6]),
    ]
