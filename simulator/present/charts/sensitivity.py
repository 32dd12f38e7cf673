"""Sensitivity charts: the tornado and the Sobol indices of the total's overspend."""

from __future__ import annotations

import numpy as np
import xarray as xr
from matplotlib.figure import Figure, SubFigure
from matplotlib.ticker import PercentFormatter

from simulator.present.charts.formatting import money_axis, wrap
from simulator.present.charts.frame import RunInfo, frame
from simulator.present.charts.stats import sens_point, sobol_whiskers, tornado_whiskers
from simulator.present.charts.style import BAND_COLOURS
from simulator.present.labels import config_words, input_words


def draw_tornado(
    fig: Figure | SubFigure,
    sens: xr.Dataset,
    financial_year: str,
    run: RunInfo,
    labels: dict[str, str] | None = None,
    top: int = 12,
) -> None:
    """Draw the tornado: change in the total's mean overspend with each input at P10 and P90.

    Parameters
    ----------
    sens : xarray.Dataset
        ``sensitivity.nc``: ``tornado_mean_low`` and ``tornado_mean_high`` (GBP) by
        ``input`` (and ``service``, ``financial_year``); ``*_se`` adds whiskers.
    top : int
        How many inputs to show, largest effect first.
    """
    names = [str(x) for x in sens["input"].values]
    low = sens_point(sens, "tornado_mean_low", financial_year)
    high = sens_point(sens, "tornado_mean_high", financial_year)
    swing = np.nan_to_num(np.maximum(np.abs(low), np.abs(high)), nan=-1)
    order = np.argsort(-swing, kind="stable")[:top]
    body = frame(
        fig,
        f"Which assumptions move the overspend of all services most, {financial_year}",
        run,
        "Each input fixed in turn at its 10th and at its 90th percentile, all others still "
        f"uncertain (common random numbers); the {len(order)} with the largest effect. "
        "Whiskers: 95% Monte Carlo intervals.",
    )
    ax = body.subplots()
    y = np.arange(len(order))[::-1]
    for values, name, colour, hatch, text in (
        (low, "tornado_mean_low", BAND_COLOURS[2], "///", "Input at its 10th percentile"),
        (high, "tornado_mean_high", BAND_COLOURS[-1], "", "Input at its 90th percentile"),
    ):
        ax.barh(y, values[order], color=colour, hatch=hatch, edgecolor="#555555", lw=0.5,
                xerr=tornado_whiskers(sens, name, financial_year, order), capsize=2,
                error_kw={"lw": 0.8}, label=text)  # fmt: skip
    ax.set_yticks(y, [wrap(_words(sens, names[i], labels), 40) for i in order])
    ax.axvline(0, color="black", lw=0.8)
    ax.grid(axis="y", visible=False)
    money_axis(ax.xaxis)
    ax.set_xlabel("Change in mean overspend")
    body.legend(loc="outside upper center", ncols=2)


CASE_LEVEL_LABEL = "Chance alone: which cases arrive and how long they stay"


def draw_sobol(
    fig: Figure | SubFigure,
    sens: xr.Dataset,
    financial_year: str,
    run: RunInfo,
    labels: dict[str, str] | None = None,
    top: int = 12,
) -> None:
    """Draw first-order and total Sobol indices of the total's overspend, with intervals.

    Estimates and intervals are drawn clipped to [0, 1], and the caption says
    that what is left outside, or a first order above the total, is noise.

    Parameters
    ----------
    sens : xarray.Dataset
        ``sensitivity.nc``: ``first_order`` and ``total_order`` (fractions of
        variance) by ``input``, with ``*_low``/``*_high`` bounds when present,
        and ``case_level_share`` (the variance left to case-level randomness).
    """
    from simulator.analysis.sensitivity import SOBOL_CAVEAT, shown_index

    names = [str(x) for x in sens["input"].values]
    total = shown_index(sens_point(sens, "total_order", financial_year))
    first = shown_index(sens_point(sens, "first_order", financial_year))
    order = np.argsort(-np.nan_to_num(total, nan=-np.inf), kind="stable")[:top]
    level = sens.attrs.get("confidence_level")
    samples = sens.attrs.get("sobol_samples")
    note = "Sobol indices" + (f" from {int(samples):,} base samples" if samples else "")
    if level is not None:
        note += f"; whiskers: {float(level):.0%} bootstrap intervals"
    body = frame(
        fig,
        f"Share of the uncertainty in the overspend of all services, {financial_year}",
        run,
        f"{note}. Total effect includes interactions with other inputs. {SOBOL_CAVEAT}",
    )
    ax = body.subplots()
    rows = [(_words(sens, names[i], labels), i) for i in order]
    case = "case_level_share" in sens
    y = np.arange(len(rows) + case)[::-1]
    h = 0.38
    for name, values, offset, colour, hatch, text in (
        ("total_order", total, h / 2, BAND_COLOURS[-1], "", "Total effect"),
        ("first_order", first, -h / 2, BAND_COLOURS[2], "///", "First-order effect (alone)"),
    ):
        ax.barh(y[: len(rows)] + offset, 100 * values[order], height=h, color=colour,
                hatch=hatch, edgecolor="#555555", lw=0.5, capsize=2, error_kw={"lw": 0.8},
                xerr=sobol_whiskers(sens, name, financial_year, order, values), label=text)  # fmt: skip
    labels_y = [wrap(label, 40) for label, _ in rows]
    if case:
        share = shown_index(sens_point(sens, "case_level_share", financial_year))
        err = sobol_whiskers(sens, "case_level_share", financial_year, np.array([0]), share)
        ax.barh(y[-1:], 100 * share[:1], height=h, color="#bdbdbd", hatch="...",
                edgecolor="#555555", lw=0.5, xerr=err, capsize=2, error_kw={"lw": 0.8},
                label="Case-level chance")  # fmt: skip
        labels_y.append(wrap(CASE_LEVEL_LABEL, 40))
    ax.set_yticks(y, labels_y)
    ax.xaxis.set_major_formatter(PercentFormatter(decimals=0))
    ax.set_xlim(left=min(0, ax.get_xlim()[0]))
    ax.axvline(0, color="black", lw=0.8)
    ax.grid(axis="y", visible=False)
    ax.set_xlabel("Share of the variance of the overspend")
    body.legend(loc="outside upper center", ncols=3)


def _words(sens: xr.Dataset, name: str, labels: dict[str, str] | None) -> str:
    """An input in words: the file's config supplies price rises' descriptions."""
    own, factors = config_words(str(sens.attrs.get("config", "")))
    return input_words(name, {**own, **(labels or {})}, factors)
