"""The backtest's results as one xarray Dataset (``backtest.nc``), scores included.

Dimensions:

- ``origin``: the forecast origins (a 1 April each), earliest first;
- ``service``: each service calibrated at some origin, then ``total`` (their sum
  over the services forecast at that origin);
- ``target``: what is scored, one outcome per origin and service:
  ``caseload`` (12 months ahead), ``new_placements``, ``placement_days`` and
  ``cost`` over the 12 months (units in ``target_units``);
- ``month``: 1 to 12, months after the origin (the monthly caseload);
- ``draw``: the simulation's draws; ``naive``: ``flat`` and ``trend``;
- ``forecaster``: ``simulation`` and the naive forecasts, as scored;
- ``level``: central interval levels 0.5, 0.8, 0.9; ``pit_bin``: PIT histogram bins.

A service not calibrated at an origin (none of its placements had ended, say)
has NaN there and is left out of that origin's total.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import xarray as xr

from simulator._version import __version__
from simulator.calibrate import Records
from simulator.calibrate.records import from_day
from simulator.config.calendar import fy_label

from .forecast import MONTHS, OriginForecast, Settings
from .outcomes import NAIVE, YEARLY, Outcome, month_boundaries
from .scores import LEVELS, PIT_BINS, coverage_interval, crps, inside, pit, pit_histogram

#: Scored quantities, their words and units.
TARGETS = {
    "caseload": ("caseload 12 months ahead", "placements"),
    "new_placements": ("new placements in the year", "placements"),
    "placement_days": ("placement-days in the year", "days"),
    "cost": ("cost of the year's placements", "GBP"),
}
FORECASTERS = {
    "simulation": "the simulation",
    "flat": "last year's level held flat",
    "trend": "last year's level plus its trend",
}
TOTAL = "total"


@dataclass
class OriginResult:
    """One origin's forecast, outcome and naive forecasts, by service."""

    forecast: OriginForecast
    actual: dict[str, Outcome]
    naive: dict[str, dict[str, Outcome]]


def _service_order(results: list[OriginResult], full: Records) -> list[str]:
    seen = {k for r in results for k in r.forecast.services}
    ordered = [k for k in full.services if k in seen]
    return ordered + sorted(seen - set(ordered))


def _target_values(o: Outcome) -> list[float]:
    return [float(o.caseload[-1]), *(o.year[k] for k in YEARLY)]


def _arrays(results: list[OriginResult], services: list[str], draws: int) -> dict:
    """Forecasts, outcomes and naive forecasts as arrays, the total row summed."""
    n_o, n_s, n_t = len(results), len(services) + 1, len(TARGETS)
    out = {
        "forecast": np.full((n_o, n_s, n_t, draws), np.nan),
        "actual": np.full((n_o, n_s, n_t), np.nan),
        "naive": np.full((len(NAIVE), n_o, n_s, n_t), np.nan),
        "forecast_caseload": np.full((n_o, n_s, MONTHS, draws), np.nan),
        "actual_caseload": np.full((n_o, n_s, MONTHS), np.nan),
        "naive_caseload": np.full((len(NAIVE), n_o, n_s, MONTHS), np.nan),
        "unit_cost": np.full((n_o, n_s), np.nan),
        "costs_recorded": np.zeros((n_o, n_s)),
    }
    for o, r in enumerate(results):
        fc = r.forecast
        for i, key in enumerate(fc.services):
            s = services.index(key)
            out["forecast"][o, s] = np.stack(
                [fc.caseload[:, i, -1], fc.new_placements[:, i], fc.placement_days[:, i],
                 fc.cost[:, i]]
            )  # fmt: skip
            out["forecast_caseload"][o, s] = fc.caseload[:, i, :].T
            out["actual"][o, s] = _target_values(r.actual[key])
            out["actual_caseload"][o, s] = r.actual[key].caseload
            for n, name in enumerate(NAIVE):
                out["naive"][n, o, s] = _target_values(r.naive[key][name])
                out["naive_caseload"][n, o, s] = r.naive[key][name].caseload
            out["unit_cost"][o, s] = fc.unit_cost[key]
            out["costs_recorded"][o, s] = float(fc.costs_recorded[key])
        # The total: the services forecast at this origin, summed draw by draw.
        for name in ("forecast", "actual", "forecast_caseload", "actual_caseload"):
            out[name][o, -1] = np.nansum(out[name][o, :-1], axis=0)
        for name in ("naive", "naive_caseload"):
            out[name][:, o, -1] = np.sum(out[name][:, o, :-1][:, _forecast_at(fc, services)], 1)
    return out


def _forecast_at(fc: OriginForecast, services: list[str]) -> np.ndarray:
    return np.array([k in fc.services for k in services])


def _scores(a: dict, seed: int) -> dict:
    """PIT, inside-interval indicators and CRPS per forecaster, origin, service and target."""
    rng = np.random.default_rng([seed, 903])
    sim_pit = pit(a["forecast"], a["actual"], rng)
    naive_pit = pit(a["naive"][..., None], a["actual"][None], rng)
    pits = np.concatenate([sim_pit[None], naive_pit])
    crpss = np.concatenate(
        [crps(a["forecast"], a["actual"])[None], crps(a["naive"][..., None], a["actual"][None])]
    )
    ins = np.stack([inside(pits, level) for level in LEVELS], axis=-1)
    return {"pit": pits, "crps": crpss, "inside": ins}


def _summaries(s: dict, n_services: int) -> dict:
    """Coverage with its exact 95% interval, mean CRPS and PIT histograms."""
    ins = s["inside"]  # forecaster, origin, service, target, level
    hits = np.nansum(ins, axis=1)
    n = np.isfinite(ins).sum(axis=1)
    low, high = np.vectorize(coverage_interval)(hits.astype(int), n)
    pooled = ins[:, :, :n_services]  # every service, not the total
    p_hits = np.nansum(pooled, axis=(1, 2))
    p_n = np.isfinite(pooled).sum(axis=(1, 2))
    p_low, p_high = np.vectorize(coverage_interval)(p_hits.astype(int), p_n)
    sim_pit = s["pit"][0]  # origin, service, target
    hist = np.stack(
        [[pit_histogram(sim_pit[:, j, t]) for t in range(sim_pit.shape[2])]
         for j in range(sim_pit.shape[1])]
    )  # fmt: skip
    hist_all = np.stack(
        [pit_histogram(sim_pit[:, :n_services, t]) for t in range(sim_pit.shape[2])]
    )
    with np.errstate(invalid="ignore", divide="ignore"):
        return {
            "coverage": hits / n,
            "coverage_low": low,
            "coverage_high": high,
            "outcomes_scored": n[0, ..., 0],
            "coverage_all": p_hits / p_n,
            "coverage_all_low": p_low,
            "coverage_all_high": p_high,
            "outcomes_scored_all": p_n[0, :, 0],
            "crps_mean": np.nanmean(s["crps"], axis=1),
            "pit_histogram": hist,
            "pit_histogram_all": hist_all,
        }


def _var(dims, data, units: str, long_name: str) -> tuple:
    return (dims, np.asarray(data, dtype=float), {"units": units, "long_name": long_name})


def build_dataset(results: list[OriginResult], full: Records, settings: Settings) -> xr.Dataset:
    """The backtest Dataset: forecasts, outcomes, naive forecasts and their scores.

    Parameters
    ----------
    results : list of OriginResult
        One per origin, earliest first.
    full : Records
        All the records (for the services' order and labels, and the sources).
    settings : Settings

    Returns
    -------
    xarray.Dataset
    """
    services = _service_order(results, full)
    labels = {k: v for r in results for k, v in r.forecast.labels.items()}
    a = _arrays(results, services, settings.draws)
    s = _scores(a, settings.seed)
    summary = _summaries(s, len(services))
    see = "see target_units"
    o_s_t, o_s_m = ("origin", "service", "target"), ("origin", "service", "month")
    m_o_s_t = ("forecaster", *o_s_t)
    cover = ("forecaster", "service", "target", "level")
    data = {
        "forecast": _var((*o_s_t, "draw"), a["forecast"], see, "simulated outcome"),
        "actual": _var(o_s_t, a["actual"], see, "outcome the records show"),
        "naive_forecast": _var(("naive", *o_s_t), a["naive"], see, "naive forecast"),
        "forecast_caseload": _var(
            (*o_s_m, "draw"), a["forecast_caseload"], "placements",
            "simulated placements open at the month end",
        ),
        "actual_caseload": _var(
            o_s_m, a["actual_caseload"], "placements", "placements open at the month end"
        ),
        "naive_caseload": _var(
            ("naive", *o_s_m), a["naive_caseload"], "placements",
            "naive forecast of placements open at the month end",
        ),
        "unit_cost": _var(
            ("origin", "service"), a["unit_cost"], "GBP per week",
            "calibrated mean weekly cost (the outcome's cost where the records give none)",
        ),
        "costs_recorded": _var(
            ("origin", "service"), a["costs_recorded"], "1",
            "1 where the records give weekly costs (the outcome's cost is the actual cost)",
        ),
        "pit": _var(m_o_s_t, s["pit"], "1", "probability integral transform (randomised)"),
        "crps": _var(m_o_s_t, s["crps"], see, "continuous ranked probability score"),
        "inside": _var(
            (*m_o_s_t, "level"), s["inside"], "1", "1 if the outcome is inside the central interval"
        ),
        "coverage": _var(cover, summary["coverage"], "1", "share of outcomes inside the interval"),
        "coverage_low": _var(cover, summary["coverage_low"], "1", "coverage: exact 95% lower bound"),
        "coverage_high": _var(
            cover, summary["coverage_high"], "1", "coverage: exact 95% upper bound"
        ),
        "outcomes_scored": _var(
            ("service", "target"), summary["outcomes_scored"], "outcomes", "outcomes scored"
        ),
        "coverage_all": _var(
            ("forecaster", "target", "level"), summary["coverage_all"], "1",
            "share of outcomes inside the interval, every service and origin pooled",
        ),
        "coverage_all_low": _var(
            ("forecaster", "target", "level"), summary["coverage_all_low"], "1",
            "pooled coverage: exact 95% lower bound",
        ),
        "coverage_all_high": _var(
            ("forecaster", "target", "level"), summary["coverage_all_high"], "1",
            "pooled coverage: exact 95% upper bound",
        ),
        "outcomes_scored_all": _var(
            ("target",), summary["outcomes_scored_all"], "outcomes",
            "outcomes scored, every service and origin pooled",
        ),
        "crps_mean": _var(
            ("forecaster", "service", "target"), summary["crps_mean"], see, "mean CRPS over origins"
        ),
        "pit_histogram": _var(
            ("service", "target", "pit_bin"), summary["pit_histogram"], "outcomes",
            "PIT histogram of the simulation's forecasts",
        ),
        "pit_histogram_all": _var(
            ("target", "pit_bin"), summary["pit_histogram_all"], "outcomes",
            "PIT histogram, every service pooled",
        ),
    }  # fmt: skip
    origins = [r.forecast.origin for r in results]
    coords = _coords(origins, services, labels, settings.draws)
    return xr.Dataset(data, coords=coords, attrs=_attrs(results, full, settings))


def _coords(origins: list[int], services: list[str], labels: dict, draws: int) -> dict:
    years = [from_day(o).astype(object).year for o in origins]
    month_start = np.stack([month_boundaries(o)[:-1] for o in origins]).astype("datetime64[D]")
    return {
        "origin": ("origin", [str(from_day(o)) for o in origins], {"long_name": "forecast origin"}),
        "origin_year": (
            "origin", [fy_label(y) for y in years], {"long_name": "financial year forecast"}
        ),
        "service": ("service", [*services, TOTAL], {"long_name": "service, or the total"}),
        "service_label": (
            "service", [labels.get(k, k) for k in services] + ["Total"],
            {"long_name": "display name"},
        ),
        "target": ("target", list(TARGETS), {"long_name": "quantity scored"}),
        "target_label": ("target", [v[0] for v in TARGETS.values()], {"long_name": "in words"}),
        "target_units": ("target", [v[1] for v in TARGETS.values()], {"long_name": "units"}),
        "month": ("month", np.arange(1, MONTHS + 1), {"long_name": "months after the origin"}),
        "month_start": (
            ("origin", "month"), month_start.astype("datetime64[ns]"),
            {"long_name": "first day of the month"},
        ),
        "draw": ("draw", np.arange(draws), {"long_name": "Monte Carlo draw"}),
        "naive": ("naive", list(NAIVE), {"long_name": "naive forecast"}),
        "forecaster": ("forecaster", list(FORECASTERS), {"long_name": "forecast scored"}),
        "forecaster_label": ("forecaster", list(FORECASTERS.values()), {"long_name": "in words"}),
        "level": ("level", list(LEVELS), {"long_name": "central interval level", "units": "1"}),
        "pit_bin": (
            "pit_bin", np.arange(PIT_BINS) / PIT_BINS, {"long_name": "PIT bin, lower edge"}
        ),
    }  # fmt: skip


def _attrs(results: list[OriginResult], full: Records, settings: Settings) -> dict:
    council = results[0].forecast.config.council.name if results else ""
    return {
        "title": f"overspend backtest: {council}",
        "council": council,
        "seed": int(settings.seed),
        "draws": int(settings.draws),
        "sources": ", ".join(full.sources),
        "parameter_uncertainty": int(settings.parameter_uncertainty),
        "keep_stale": int(settings.keep_stale),
        "simulator_version": __version__,
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        # The config each origin was forecast with, so the file explains itself later.
        **{f"config_{from_day(r.forecast.origin)}": r.forecast.config_text for r in results},
    }
