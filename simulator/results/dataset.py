"""Results: the xarray Dataset contract, summaries, and safe writing to disk.

The Dataset's names are a contract other tools rely on (see the README):
dimensions ``draw``, ``service``, ``month``, ``financial_year``; variables
``spend``, ``caseload``, ``arrivals``, ``budget``, ``outturn``, ``overspend``.
The ``service`` dimension holds each service, then one row per department
and a ``total`` row; the coordinate ``service_type`` tells them apart.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from simulator._version import __version__
from simulator.config.inputs import input_label
from simulator.engine.chunks import CHUNK_DRAWS, Simulation
from simulator.files import write_folder, write_netcdf
from simulator.model.equations import Plan, overspend, row_budgets, year_totals
from simulator.results.folders import holds_run
from simulator.results.reserve import RESERVE_FILE, reserve_dataset
from simulator.results.summary import summary_table, write_summary_csv

GBP = "GBP"


def group_coords(plan: Plan) -> dict:
    """Coordinates of the result rows (services, departments, total) and financial years.

    Shared by every results file (simulation, sensitivity, scenarios) so they align.
    """
    groups = plan.groups
    return {
        "service": ("service", [g.key for g in groups], {"long_name": "service, department or total"}),
        "service_label": ("service", [g.label for g in groups], {"long_name": "display name"}),
        "service_type": (
            "service", [g.kind for g in groups], {"long_name": "placements, cost, department or total"}
        ),
        "financial_year": (
            "financial_year", plan.grid.fy_labels, {"long_name": "financial year, April to March"}
        ),
    }  # fmt: skip


def _label(plan: Plan, name: str) -> str:
    return input_label(name, {g.key: g.label for g in plan.groups})


def data_var(dims, data, units: str, long_name: str) -> tuple:
    """An xarray data variable as ``(dims, float values, attrs)`` with units and a long name.

    Every results file (simulation, sensitivity, scenarios) describes its
    variables with it, so they describe them alike.
    """
    return (dims, np.asarray(data, dtype=float), {"units": units, "long_name": long_name})


def build_dataset(plan: Plan, sim: Simulation, seed: int, draws: int) -> xr.Dataset:
    """Wrap a simulation's arrays as the results Dataset.

    Parameters
    ----------
    plan : Plan
    sim : Simulation
    seed, draws : int
        Recorded in the attributes.

    Returns
    -------
    xarray.Dataset
    """
    grid = plan.grid
    groups = plan.groups
    fy = grid.fy_labels
    budget = row_budgets(plan)
    dims3, dimsy = ("draw", "service", "month"), ("draw", "service", "financial_year")
    outturn = year_totals(sim.spend)

    def var(dims, data, units, long_name):
        return (dims, data, {"units": units, "long_name": long_name})

    def coord(dim, values, long_name, **attrs):
        return (dim, values, {"long_name": long_name, **attrs})

    ds = xr.Dataset(
        data_vars={
            "spend": var(dims3, sim.spend, GBP, "net spend in the month"),
            "caseload": var(dims3, sim.caseload, "placements", "placements open at month end"),
            "arrivals": var(dims3, sim.arrivals, "placements", "new placements starting in the month"),
            "budget": var(("service", "financial_year"), budget, GBP, "budget"),
            "outturn": var(dimsy, outturn, GBP, "net outturn for the financial year"),
            "overspend": var(
                dimsy, overspend(outturn, budget[None]), GBP,
                "overspend (outturn minus budget; negative is an underspend)",
            ),
            "gross_outturn": var(
                dimsy, sim.gross, GBP, "gross spend in the financial year, before income and savings"
            ),
            "income": var(dimsy, sim.income, GBP, "income recovered in the financial year"),
            "savings": var(dimsy, sim.savings, GBP, "savings delivered in the financial year"),
            "high_cost_open": var(
                dimsy, sim.high_cost, "placements",
                "high-cost placements open at some time in the financial year",
            ),
            "extended": var(
                dimsy, sim.extended, "placements",
                "snapshot placements whose planned end in the year was extended",
            ),
            "from_children_outturn": var(
                dimsy, sim.from_children, GBP,
                "outturn (after income, before savings) of placements that came from a "
                "children's service at its leaving age",
            ),
            "from_children_caseload": var(
                dimsy, sim.from_children_caseload, "placements",
                "placements that came from a children's service, open at the year's end",
            ),
            "input_value": var(
                ("draw", "input"), sim.inputs, "see input_units", "value drawn for each uncertain input"
            ),
        },
        coords={
            "draw": coord("draw", np.arange(draws), "Monte Carlo draw"),
            **group_coords(plan),
            "department": coord("service", [g.department for g in groups], "department"),
            "month": coord(
                "month", grid.month_start.astype("datetime64[ns]"), "first day of the month"
            ),
            "month_financial_year": coord(
                "month", [fy[i] for i in grid.fy_index], "financial year of the month"
            ),
            "days_in_month": coord("month", grid.days, "days in the month", units="days"),
            "month_is_actual": coord(
                "month", np.arange(grid.n_months) < plan.start_month, "month fixed at actual spend"
            ),
            "input": coord("input", [i.name for i in plan.inputs], "uncertain input"),
            "input_label": coord("input", [_label(plan, i.name) for i in plan.inputs], "input in words"),
            "input_units": coord("input", [i.spec.units for i in plan.inputs], "units of the input's values"),
        },
        attrs={**provenance(plan, "simulation", seed), "draws": int(draws), "as_of": plan.about.as_of},
    )  # fmt: skip
    forecast = _officer_forecast(plan)
    if forecast is not None:
        ds["forecast_overspend"] = var(
            ("service", "financial_year"), forecast, GBP,
            "the officer's own point forecast of overspend, for comparison",
        )  # fmt: skip
    return ds


def config_source(config_text: str) -> dict:
    """The ``config_source`` attribute of a config read from a workbook (none for TOML).

    E.g. ``workbook council.xlsx sha256:...``, read from the note the resolved
    config's text starts with (see :func:`simulator.config.load.dumps_config`).
    """
    from simulator.config.load import ORIGIN_PREFIX

    first = config_text.split("\n", 1)[0]
    return {"config_source": first[len(ORIGIN_PREFIX) :]} if first.startswith(ORIGIN_PREFIX) else {}


def provenance(plan: Plan, what: str, seed: int) -> dict:
    """The attributes every results file carries, so it explains itself years later.

    Parameters
    ----------
    plan : Plan
    what : str
        What the file holds, for its title (``"simulation"``, ...).
    seed : int
    """
    about = plan.about
    return {
        "title": f"overspend {what}: {about.council}",
        "council": about.council,
        "seed": int(seed),
        "chunk_draws": CHUNK_DRAWS,
        "config": about.config_text,
        "simulator_version": __version__,
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "price_base": about.price_base,
        **config_source(about.config_text),
        # Only when there are some, so runs of configs without them keep their attributes.
        **(
            {"budgets_placeholder": "; ".join(about.placeholder_budgets)}
            if about.placeholder_budgets
            else {}
        ),
    }


def _officer_forecast(plan: Plan) -> np.ndarray | None:
    """Officer's point forecasts by result row for the as-of year (NaN elsewhere)."""
    if not plan.about.forecast_overspend:
        return None
    out = np.full((len(plan.groups), plan.years), np.nan)
    year = plan.start_month // 12  # validation keeps the as-of date inside the horizon
    keys = [g.key for g in plan.groups]
    for key, value in plan.about.forecast_overspend.items():
        out[keys.index(key), year] = value
    return out


# ------------------------------------------------------------------ writing


def write_run(
    ds: xr.Dataset,
    out_dir: Path,
    force: bool = False,
    extra=None,
    table: pd.DataFrame | None = None,
) -> list[Path]:
    """Write ``simulation.nc``, ``summary.csv`` and ``reserve.nc`` into ``out_dir`` atomically.

    Everything is written into a temporary folder beside ``out_dir`` and swapped
    into place only when complete (:func:`simulator.files.write_folder`), so an
    interrupted run never leaves a folder that looks finished. An existing run
    is replaced only with ``force``, and a folder holding files the tool did not
    write is never replaced. When ``out_dir`` holds no run yet, the tool's own
    files already there (for example a sensitivity analysis) are kept; files
    derived from a run being replaced go with it, since they describe the old run.

    Parameters
    ----------
    ds : xarray.Dataset
    out_dir : pathlib.Path
    force : bool
        Replace an existing run.
    extra : callable, optional
        ``extra(tmp_dir)`` writes further files (charts) into the folder before it is renamed.
    table : pandas.DataFrame, optional
        The :func:`summary_table` of ``ds``, when already computed.

    Returns
    -------
    list of pathlib.Path
        The files written, at their final paths.
    """

    def fill(tmp: Path) -> None:
        write_netcdf(ds, tmp / "simulation.nc")
        write_summary_csv(summary_table(ds) if table is None else table, tmp / "summary.csv")
        write_netcdf(reserve_dataset(ds), tmp / RESERVE_FILE)
        if extra is not None:
            extra(tmp)

    return write_run_folder(out_dir, fill, force)


def write_run_folder(out_dir: Path, fill, force: bool) -> list[Path]:
    """Write a run folder with ``fill(tmp)``, under the rules of a run's ``--out``."""
    return write_folder(
        out_dir, fill, force=force, occupied=holds_run, keep=lambda d: not holds_run(d)
    )
