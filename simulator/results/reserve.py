"""How big a reserve, and how much more saving: answers read off the simulated draws.

A section 151 officer is asked two questions the distribution of overspend
answers directly, with no new simulation (common random numbers: every answer
comes from the same draws as the rest of the run):

- **Contingency for a confidence level.** A reserve of R covers the overspend
  in a share c of the futures when P(overspend <= R) = c, so R is the
  c-quantile of the overspend (none is needed when that quantile is an
  underspend). "A reserve of £4.7m covers the overspend in 9 futures out of 10."
- **Extra savings to bring the chance of overspend down to p.** A saving S
  delivered for certain lowers every draw's overspend by S, so the chance of
  overspend becomes P(overspend > S) = p when S is the (1 - p)-quantile: the
  median for evens (p = 0.5).

Also the **expected shortfall**: the mean overspend in the worst 1 in 20
futures (at or above the 95th percentile).

Monte Carlo standard errors: for a quantile, the distribution-free binomial
interval of order statistics (:func:`simulator.results.summary.quantile_se`);
for the expected shortfall, its influence function, ES = q + E[(X - q)+] / a
with a = 1/20, so its variance is Var((X - q)+) / (a^2 n).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import xarray as xr

from simulator.results.summary import quantile_se

#: The file of a run folder holding :func:`reserve_dataset`.
RESERVE_FILE = "reserve.nc"

#: Confidence levels of the contingency answers.
LEVELS = (0.8, 0.9, 0.95)

#: The share of worst futures whose mean overspend is the expected shortfall.
TAIL = 0.05

#: Coordinates describing the result rows, copied from the results.
ROW_COORDS = ("service_label", "service_type", "department")


def _quantile_and_se(over: np.ndarray, q: float) -> tuple[float, float]:
    return float(np.quantile(over, q)), float(quantile_se(over, q))


def expected_shortfall(over: np.ndarray, tail: float = TAIL) -> tuple[float, float]:
    """Mean overspend in the worst ``tail`` of futures, and its Monte Carlo standard error.

    Parameters
    ----------
    over : numpy.ndarray
        Overspend of each draw, GBP.
    tail : float
        Share of the worst futures (default 1 in 20).

    Returns
    -------
    (float, float)
        GBP: the mean of the draws at or above the (1 - tail)-quantile, and its
        standard error from the influence function (see the module notes).
    """
    n = over.size
    q = float(np.quantile(over, 1 - tail))
    worst = over[over >= q]
    es = float(worst.mean())
    excess = np.maximum(over - q, 0.0)
    se = float(np.std(excess, ddof=1) / (tail * np.sqrt(n))) if n > 1 else float("nan")
    return es, se


def savings_needed(over: np.ndarray, chance: float) -> tuple[float, float]:
    """Extra savings (GBP) that bring the chance of overspend down to ``chance``, and its s.e.

    The (1 - chance)-quantile of the overspend, or nothing when the chance is
    already at or below ``chance``.
    """
    q, se = _quantile_and_se(over, 1 - chance)
    return (max(q, 0.0), se)


def reserve_dataset(
    ds: xr.Dataset, target: float | None = None, services: Sequence[str] | None = None
) -> xr.Dataset:
    """The reserve and savings answers of a run, per result row and financial year.

    Parameters
    ----------
    ds : xarray.Dataset
        Results with ``overspend`` (draw, service, financial_year), GBP.
    target : float, optional
        A chance of overspend the user aims for (a fraction in (0, 1)): the
        extra savings reaching it are added as ``savings_to_target``.
    services : sequence of str, optional
        Only these result rows (default: all), e.g. ``["total"]``; each row is
        read alone, so a large streamed run is never loaded whole.

    Returns
    -------
    xarray.Dataset
        ``reserve`` (service, financial_year, confidence; GBP): the contingency
        that covers the overspend at each confidence level; ``overspend_quantile``
        the same quantile before flooring at zero; ``expected_shortfall`` (GBP);
        ``savings_to_evens`` and optionally ``savings_to_target`` (GBP);
        ``p_overspend`` (fraction); every answer with a ``*_se``.
    """
    every = [str(k) for k in ds["service"].values]
    keys = every if services is None else list(services)
    years = [str(y) for y in ds["financial_year"].values]
    shape = (len(keys), len(years))
    quant = np.empty((*shape, len(LEVELS)))
    quant_se = np.empty_like(quant)
    es, es_se, evens, evens_se, tgt, tgt_se, p = (np.empty(shape) for _ in range(7))
    for g in range(len(keys)):
        rows = np.asarray(ds["overspend"].isel(service=every.index(keys[g])).values, float)
        for y in range(len(years)):
            over = rows[:, y]
            for k, level in enumerate(LEVELS):
                quant[g, y, k], quant_se[g, y, k] = _quantile_and_se(over, level)
            es[g, y], es_se[g, y] = expected_shortfall(over)
            evens[g, y], evens_se[g, y] = savings_needed(over, 0.5)
            if target is not None:
                tgt[g, y], tgt_se[g, y] = savings_needed(over, target)
            p[g, y] = float(np.mean(over > 0))
    gbp = "GBP"
    dims, dims3 = ("service", "financial_year"), ("service", "financial_year", "confidence")
    data = {
        "reserve": (dims3, np.maximum(quant, 0.0), {
            "units": gbp, "long_name": "contingency that covers the overspend at the confidence "
            "level (its quantile of the overspend, none when that is an underspend)"}),
        "reserve_se": (dims3, quant_se, {"units": gbp, "long_name": "Monte Carlo s.e. of reserve"}),
        "overspend_quantile": (dims3, quant, {
            "units": gbp, "long_name": "quantile of the overspend at the confidence level"}),
        "expected_shortfall": (dims, es, {
            "units": gbp, "long_name": f"mean overspend in the worst 1 in {round(1 / TAIL)} futures"}),
        "expected_shortfall_se": (dims, es_se, {
            "units": gbp, "long_name": "Monte Carlo s.e. of expected_shortfall"}),
        "savings_to_evens": (dims, evens, {
            "units": gbp, "long_name": "extra savings that bring the chance of overspend to 50%"}),
        "savings_to_evens_se": (dims, evens_se, {
            "units": gbp, "long_name": "Monte Carlo s.e. of savings_to_evens"}),
        "p_overspend": (dims, p, {"units": "1", "long_name": "probability of overspend"}),
    }  # fmt: skip
    if target is not None:
        data["savings_to_target"] = (dims, tgt, {
            "units": gbp, "long_name": "extra savings that bring the chance of overspend to "
            "the target", "target_chance": float(target)})  # fmt: skip
        data["savings_to_target_se"] = (dims, tgt_se, {
            "units": gbp, "long_name": "Monte Carlo s.e. of savings_to_target"})  # fmt: skip
    coords = {
        "service": ("service", keys),
        "financial_year": ("financial_year", years),
        "confidence": ("confidence", list(LEVELS), {"units": "1",
                       "long_name": "share of futures the reserve covers"}),
        **{
            c: ("service", [str(ds[c].values[every.index(k)]) for k in keys])
            for c in ROW_COORDS
            if c in ds.coords
        },
    }  # fmt: skip
    attrs = {
        k: ds.attrs[k] for k in ("council", "seed", "draws", "created", "simulator_version")
        if k in ds.attrs
    }  # fmt: skip
    attrs["title"] = f"overspend reserve and savings answers: {ds.attrs.get('council', '')}"
    attrs["draws"] = int(ds.sizes["draw"])
    if target is not None:
        attrs["target_chance"] = float(target)
    return xr.Dataset(data, coords=coords, attrs=attrs)


def futures_out_of(level: float) -> str:
    """A confidence level as futures: 0.9 -> "9 futures out of 10", 0.95 -> "19 out of 20"."""
    for base in (10, 20, 100):
        k = level * base
        if abs(k - round(k)) < 1e-9:
            return f"{round(k)} futures out of {base}"
    return f"{level:.0%} of futures"


def reserve_rows(
    reserve: xr.Dataset, services: Sequence[str] | None = None
) -> list[dict[str, object]]:
    """The reserve answers as plain rows (one per result row and year), for tables and sheets.

    Money in GBP, chances as fractions; keys name the columns, e.g.
    ``reserve_90_gbp`` and ``reserve_90_se_gbp``.
    """
    keys = [str(k) for k in reserve["service"].values]
    labels = (
        [str(v) for v in reserve["service_label"].values] if "service_label" in reserve else keys
    )
    wanted = keys if services is None else list(services)
    rows = []
    for y, year in enumerate(reserve["financial_year"].values):
        for key in wanted:
            g = keys.index(key)
            row: dict[str, object] = {
                "service": key,
                "service_label": labels[g],
                "financial_year": str(year),
                "p_overspend": float(reserve["p_overspend"].values[g, y]),
            }
            for k, level in enumerate(reserve["confidence"].values):
                pct = round(float(level) * 100)
                row[f"reserve_{pct}_gbp"] = float(reserve["reserve"].values[g, y, k])
                row[f"reserve_{pct}_se_gbp"] = float(reserve["reserve_se"].values[g, y, k])
            for name in ("expected_shortfall", "savings_to_evens", "savings_to_target"):
                if name in reserve:
                    row[f"{name}_gbp"] = float(reserve[name].values[g, y])
                    row[f"{name}_se_gbp"] = float(reserve[f"{name}_se"].values[g, y])
            rows.append(row)
    return rows
