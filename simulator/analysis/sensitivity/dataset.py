"""The ``sensitivity.nc`` Dataset: Sobol and tornado estimates with their coordinates.

:func:`sensitivity_dataset` wraps a :class:`~simulator.analysis.sensitivity.sobol.SobolEstimate`
and a :class:`~simulator.analysis.sensitivity.one_at_a_time.TornadoEstimate` (either or both)
as variables by input, service and financial year; see ``docs/sensitivity.md``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import xarray as xr

from simulator.analysis.sensitivity.groups import InputGroup
from simulator.analysis.sensitivity.one_at_a_time import TornadoEstimate
from simulator.analysis.sensitivity.sobol import SobolEstimate
from simulator.config.inputs import input_label, units_of
from simulator.model.equations import Plan
from simulator.results.dataset import data_var, group_coords, provenance


def _values_at(plan: Plan, group: InputGroup, q: float) -> str:
    """The group's input values at percentile q, for labels (e.g. ``0.0408``)."""
    inputs = plan.inputs
    return ", ".join(f"{float(inputs[c].param.ppf(np.array([q]))[0]):.4g}" for c in group.members)


def _sobol_vars(sobol: SobolEstimate, rows: int, years: int) -> dict:
    dims = ("input", "service", "financial_year")

    def by_input(a: np.ndarray) -> np.ndarray:
        return np.moveaxis(a.reshape(rows, years, -1), 2, 0)

    level = f"{sobol.confidence_level:.0%}"
    out = {}
    for name, text in (
        ("first_order", "first-order Sobol index of overspend (share of its variance)"),
        ("total_order", "total Sobol index of overspend, excluding interactions with case-level randomness"),
    ):  # fmt: skip
        out[name] = data_var(dims, by_input(getattr(sobol, name)), "1", text)
        for end in ("low", "high"):
            out[f"{name}_{end}"] = data_var(
                dims, by_input(getattr(sobol, f"{name}_{end}")), "1",
                f"{text}: {end} end of the {level} bootstrap interval",
            )  # fmt: skip
    text = "share of overspend variance left to case-level randomness, E[Var(Y|inputs)]/Var(Y)"
    out["case_level_share"] = data_var(
        ("service", "financial_year"), sobol.case_level_share.reshape(rows, years), "1", text
    )
    for end in ("low", "high"):
        out[f"case_level_share_{end}"] = data_var(
            ("service", "financial_year"),
            getattr(sobol, f"case_level_share_{end}").reshape(rows, years),
            "1",
            f"{text}: {end} end of the {level} bootstrap interval",
        )
    out["sobol_variance"] = data_var(
        ("service", "financial_year"), sobol.variance.reshape(rows, years), "GBP2",
        "variance of overspend over the Sobol design (inputs and cases uncertain)",
    )  # fmt: skip
    return out


def _tornado_vars(t: TornadoEstimate) -> dict:
    dims = ("input", "service", "financial_year")
    lo, hi = (f"{q:.0%}" for q in t.percentiles)
    out = {}
    for end, pct in (("low", lo), ("high", hi)):
        mean_text = f"change in mean overspend with the input at its {pct} percentile"
        p_text = f"change in the probability of overspend with the input at its {pct} percentile"
        out[f"tornado_mean_{end}"] = data_var(dims, getattr(t, f"mean_{end}"), "GBP", mean_text)
        out[f"tornado_mean_{end}_se"] = data_var(
            dims,
            getattr(t, f"mean_{end}_se"),
            "GBP",
            f"Monte Carlo standard error of the {mean_text}",
        )
        out[f"tornado_p_{end}"] = data_var(dims, getattr(t, f"p_{end}"), "1", p_text)
        out[f"tornado_p_{end}_se"] = data_var(
            dims, getattr(t, f"p_{end}_se"), "1", f"Monte Carlo standard error of the {p_text}"
        )
    out["tornado_base_mean_overspend"] = data_var(
        ("service", "financial_year"),
        t.base_mean,
        "GBP",
        "mean overspend of the tornado's base run",
    )
    out["tornado_base_p_overspend"] = data_var(
        ("service", "financial_year"),
        t.base_p,
        "1",
        "probability of overspend in the tornado's base run",
    )
    return out


def sensitivity_dataset(
    plan: Plan,
    groups: Sequence[InputGroup],
    seed: int,
    grouping: str,
    sobol: SobolEstimate | None = None,
    tornado_result: TornadoEstimate | None = None,
) -> xr.Dataset:
    """Wrap sensitivity results as the ``sensitivity.nc`` Dataset.

    Parameters
    ----------
    plan : Plan
    groups : sequence of InputGroup
        The ``input`` dimension.
    seed : int
    grouping : str
        How inputs were grouped (recorded).
    sobol : SobolEstimate, optional
    tornado_result : TornadoEstimate, optional

    Returns
    -------
    xarray.Dataset
        Dimensions ``input``, ``service``, ``financial_year``; see ``docs/sensitivity.md``.
    """
    rows, years = len(plan.groups), plan.years
    data: dict = {}
    attrs = {**provenance(plan, "sensitivity analysis", seed), "grouping": grouping}
    if sobol is not None:
        data |= _sobol_vars(sobol, rows, years)
        attrs |= {
            "sobol_samples": sobol.n,
            "sobol_evaluations": sobol.evaluations,
            "sobol_estimator": "scipy.stats.sobol_indices (Saltelli 2010 first order, Jansen total)",
            "sobol_case_level": "independent case-level draws per evaluation; total_order = "
            "T(input and cases) - T(cases); case_level_share = T(cases)",
            "bootstrap_resamples": sobol.n_resamples,
            "confidence_level": sobol.confidence_level,
        }
    if tornado_result is not None:
        data |= _tornado_vars(tornado_result)
        attrs |= {
            "tornado_draws": tornado_result.draws,
            "tornado_percentiles": list(tornado_result.percentiles),
        }
    lo, hi = tornado_result.percentiles if tornado_result is not None else (0.1, 0.9)
    labels = {g.key: g.label for g in plan.groups}
    coords = {
        "input": ("input", [g.name for g in groups], {"long_name": "uncertain input or group"}),
        "input_members": (
            "input", [", ".join(g.member_names) for g in groups], {"long_name": "inputs in the group"}
        ),
        "input_label": ("input", [input_label(g.name, labels) for g in groups], {"long_name": "input in words"}),
        "input_units": (
            "input", [", ".join(dict.fromkeys(units_of(m) for m in g.member_names)) for g in groups],
            {"long_name": "units of the members' values"},
        ),
        "input_value_low": (
            "input", [_values_at(plan, g, lo) for g in groups],
            {"long_name": f"value of each member at its {lo:.0%} percentile"},
        ),
        "input_value_high": (
            "input", [_values_at(plan, g, hi) for g in groups],
            {"long_name": f"value of each member at its {hi:.0%} percentile"},
        ),
        **group_coords(plan),
    }  # fmt: skip
    if sobol is not None:
        coords["input_redraws_cases"] = (
            "input", sobol.redraws_cases.astype(bool),
            {"long_name": "moving the input changes the case-level draws (its total index "
             "then leaves out its interaction with case-level randomness)"},
        )  # fmt: skip
    return xr.Dataset(data_vars=data, coords=coords, attrs=attrs)
