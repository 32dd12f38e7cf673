"""Writing a calibration to a folder: config, plots, fit table, problems, caseload.

Everything goes into a temporary folder beside the target and is renamed into
place only when complete, so an interrupted calibration never leaves a folder
that looks finished::

    calibration/
      <council>_<as-of>.toml   the config, named after the council and the as-of
                               date (overspend run calibration/<council>_<as-of>.toml)
      fits.csv          every fitted figure with its SE and fit statistics (moves
                        between services and age shares included)
      problems.csv      every row cleaning dropped or changed, and why
      caseload.csv      the placements open on the as-of date (a caseload snapshot)
      plots/<service>.png
"""

from __future__ import annotations

import hashlib
import math
import re
import unicodedata
from pathlib import Path

import pandas as pd

from simulator.files import check_folder, write_folder

from .ages import BANDS
from .calibration import Calibration, ServiceCalibration
from .records import from_day
from .snapshot import write_caseload_snapshot
from .writer import to_toml

#: Longest council part of a config's file name; a longer name is cut at a word and
#: given a short hash of the whole name, so that two long names stay apart.
MAX_NAME = 40
# Names Windows reserves for devices, whatever the extension.
_RESERVED = {"con", "prn", "aux", "nul"} | {f"{p}{i}" for p in ("com", "lpt") for i in range(10)}


def council_slug(name: str) -> str:
    """A short, file-name-safe form of a council name.

    Letters are reduced to plain ASCII (``'Ynys Môn'`` -> ``'ynys_mon'``), anything
    else becomes ``_``; a name longer than :data:`MAX_NAME` is cut at a word and
    ends with six hex digits of a hash of the whole name, so names that share a
    long beginning stay distinct.
    """
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "_", ascii_name.lower()).strip("_") or "council"
    if len(slug) > MAX_NAME:
        digest = hashlib.sha256(name.encode("utf-8")).hexdigest()[:6]
        cut = slug[: MAX_NAME - 7]
        cut = cut.rsplit("_", 1)[0] if "_" in cut else cut
        slug = f"{cut}_{digest}"
    return f"{slug}_council" if slug in _RESERVED else slug


def config_name(cal: Calibration) -> str:
    """The calibrated config's file name: the council and the as-of date.

    E.g. ``'bromley_2022-03-31.toml'``: runs of configs calibrated for different
    councils, or for one council as of different dates, then go to different
    ``results/<config name>`` folders.
    """
    return f"{council_slug(cal.council)}_{from_day(cal.as_of)}.toml"


def check_writable(out_dir: Path, force: bool) -> None:
    """Refuse early, before fitting, an output folder that is not the tool's or (without force) full.

    See :func:`simulator.files.check_folder`.
    """
    check_folder(out_dir, force)


def _rows(svc: ServiceCalibration) -> list[dict]:
    """The fit table rows of one service."""
    a = svc.arrivals
    arrivals_aic = a.aic_nb if a.dispersion > 0 else a.aic_poisson
    # per_year and growth are the records' trend pulled towards flat by a prior (arrivals.shrink).
    model = f"{a.model}, trend with prior" if a.trend_weight > 0 else a.model
    rows = [
        ("arrivals", model, "per_year", a.per_year, a.per_year_se, arrivals_aic, True),
        ("arrivals", model, "growth", a.growth, a.growth_se, arrivals_aic, True),
        ("arrivals", a.model, "dispersion", a.dispersion, a.dispersion_se, arrivals_aic, True),
    ]
    if a.trend_tried:
        # The trend model alone, for the record (the growth above is it after the prior).
        rows.append(
            ("arrivals", f"{a.model} with trend", "growth", a.trend_growth, a.trend_growth_se,
             math.nan, False)
        )  # fmt: skip
    for fit in svc.lengths.fits.values():
        chosen = fit is svc.lengths.chosen
        for what in ("mean", "median", "shape"):
            if what == "shape" and fit.family.shape_key is None:
                continue
            name = f"{what}_weeks" if what != "shape" else fit.family.shape_key
            rows.append(("length", fit.name, name, fit.value(what), fit.se(what), fit.aic, chosen))
    if svc.costs is not None:
        c = svc.costs
        model = "lognormal + tail" if c.tail else "lognormal"
        aic = c.chosen.aic
        rows += [
            ("unit_cost", model, "mean_gbp_per_week", c.mean, c.mean_se, aic, True),
            ("unit_cost", model, "cv", c.cv, math.nan, aic, True),
        ]
        if c.tail:
            rows += [
                ("unit_cost", model, "high_cost_share", c.share, c.share_se, aic, True),
                (
                    "unit_cost",
                    model,
                    "high_cost_mean_gbp_per_week",
                    c.tail_mean,
                    c.tail_mean_se,
                    aic,
                    True,
                ),
                ("unit_cost", model, "high_cost_cv", c.tail_cv, math.nan, aic, True),
            ]
    if svc.ages is not None:
        for part, shares in (("age_at_entry", svc.ages.entry), ("open_ages", svc.ages.open)):
            if shares is None:
                continue
            for (band, _, _), p, se in zip(BANDS, shares.shares, shares.se, strict=True):
                rows.append(("ageing", "binomial share", f"{part} {band}", p, se, math.nan, True))
    keys = ("part", "model", "parameter", "estimate", "se", "aic", "chosen")
    return [{"service": svc.key, **dict(zip(keys, row, strict=True))} for row in rows]


def _move_rows(cal: Calibration) -> list[dict]:
    """The fit table rows of the moves between services, those not written included."""
    return [
        {"service": m.source, "part": "moves", "model": "poisson",
         "parameter": f"per_year to {m.dest}", "estimate": m.per_year, "se": m.se,
         "aic": math.nan, "chosen": m.modelled}
        for m in cal.moves
    ]  # fmt: skip


def fit_table(cal: Calibration) -> pd.DataFrame:
    """Every fitted figure of every service with its standard error and AIC.

    Moves between services are rows of the service moved from (``part`` moves,
    ``chosen`` false for a pair not written as a move); age shares are rows of
    ``part`` ageing, one per band.
    """
    return pd.DataFrame([row for svc in cal.services for row in _rows(svc)] + _move_rows(cal))


def write_calibration(
    cal: Calibration,
    out_dir: str | Path,
    force: bool = False,
    plots: bool = True,
    config_text: str | None = None,
) -> list[Path]:
    """Write the calibrated config and everything that explains it.

    Parameters
    ----------
    cal : Calibration
    out_dir : str or pathlib.Path
        Folder to create (see the module docstring for its contents).
    force : bool
        Replace an existing folder.
    plots : bool
        Write the goodness-of-fit plots.
    config_text : str, optional
        The config text, when already made by :func:`~.writer.to_toml`.

    Returns
    -------
    list of pathlib.Path
        The files written, at their final paths.
    """
    out_dir = Path(out_dir)
    text = config_text if config_text is not None else to_toml(cal)

    def fill(tmp: Path) -> None:
        (tmp / config_name(cal)).write_text(text, encoding="utf-8")
        fit_table(cal).to_csv(tmp / "fits.csv", index=False, float_format="%.6g")
        cal.log.to_frame().to_csv(tmp / "problems.csv", index=False)
        if cal.records is not None:
            write_caseload_snapshot(
                cal.caseload_placements(), from_day(cal.as_of), tmp / "caseload.csv"
            )
        if plots:
            from .plots import write_plots

            write_plots(cal, tmp / "plots")

    write_folder(out_dir, fill, force=force)
    return sorted(p for p in out_dir.rglob("*") if p.is_file())
