"""The calibrated config as commented TOML that ``overspend run`` accepts.

Every fitted figure is written with a comment saying how it was derived: the
sample size, the period, the fit statistic and its standard error (SE). With
parameter uncertainty on (the default) each fitted figure is a distribution
centred on its estimate with its SE as the spread, so a simulation carries the
calibration's own uncertainty as well as the randomness of placements:

- rates, lengths and costs (positive, multiplicative): lognormal with the
  estimate as its median and the relative SE as its log-scale sd;
- growth and shape parameters: normal with the SE as sd (truncated to the
  allowed range only when six SEs would cross it);
- the high-cost share: beta with the estimate as mean and the SE as sd.

The text is parsed back and validated with :func:`simulator.config.load.loads_config`
before it is returned, so what is written is what the engine will read.
"""

from __future__ import annotations

import json
import math
import re
import textwrap
import tomllib
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import numpy as np

from simulator._version import __version__
from simulator.config.calendar import fy_label
from simulator.config.load import config_from_dict, loads_config
from simulator.config.schema import Config

from .ages import BANDS, LEAVE_AT, MIN_AGES, AgeShares, describe, se_words
from .arrivals import MIN_MONTHS_FOR_TREND, MIN_STARTS_FOR_TREND, TREND_LR
from .calibration import GROWTH_RANGE, Calibration, ServiceCalibration, lognormal_param
from .moves import MIN_MOVES, MoveFit
from .records import from_day

# Significant figures of fitted numbers: more than the data can support, few enough to read.
SIG = 4
# Children usually leave care at 18; flag the open placements this close to it.
NEAR_LEAVING_AGE = 16.0
BUDGET_DRAWS = 1000
# Comment lines are wrapped to this many characters (the project's line length is 100).
WIDTH = 92
_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


# ------------------------------------------------------------------ TOML values


def round_sig(x: float, sig: int = SIG) -> float:
    """``x`` rounded to ``sig`` significant figures."""
    if x == 0 or not math.isfinite(x):
        return x
    return round(x, sig - 1 - math.floor(math.log10(abs(x))))


def _number(x: float | int) -> str:
    if isinstance(x, bool):
        return "true" if x else "false"
    if isinstance(x, int) or (float(x).is_integer() and abs(x) >= 1000):
        text = f"{int(x):_}"
        # Underscores only help from five digits on (10_000), as in the example config.
        return text if abs(int(x)) >= 10_000 else text.replace("_", "")
    return repr(float(x))


@dataclass(frozen=True)
class Raw:
    """TOML text written as given (e.g. a seed that should not get digit separators)."""

    text: str


def toml_value(value: Any, wrap: int = 10) -> str:
    """A value in TOML syntax (numbers, strings, lists, inline tables).

    Parameters
    ----------
    value : Any
    wrap : int
        Lists longer than this are written over several lines, ``wrap`` items a line.
    """
    if isinstance(value, Raw):
        return value.text
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, dict):
        items = ", ".join(f"{_key(k)} = {toml_value(v)}" for k, v in value.items())
        return "{ " + items + " }"
    if isinstance(value, list | tuple):
        parts = [toml_value(v) for v in value]
        if len(parts) <= wrap:
            return "[" + ", ".join(parts) + "]"
        lines = [", ".join(parts[i : i + wrap]) for i in range(0, len(parts), wrap)]
        return "[\n    " + ",\n    ".join(lines) + ",\n]"
    return _number(value)


def _key(key: str) -> str:
    return key if _BARE_KEY.match(key) else json.dumps(key, ensure_ascii=False)


@dataclass
class Section:
    """A TOML table with comments above it and on its keys."""

    name: str
    comments: list[str] = field(default_factory=list)
    items: list[tuple[str, Any, list[str]]] = field(default_factory=list)

    def add(self, key: str, value: Any, *comments: str) -> None:
        """Add ``key = value`` with comment lines above it."""
        self.items.append((key, value, list(comments)))

    def render(self) -> str:
        """The table as text."""
        lines = comment_lines(self.comments)
        lines.append(f"[{self.name}]")
        for key, value, comments in self.items:
            lines += comment_lines(comments)
            lines.append(f"{_key(key)} = {toml_value(value)}")
        return "\n".join(lines)


def comment_lines(texts: list[str], width: int = WIDTH) -> list[str]:
    """TOML comment lines, each text wrapped to ``width`` characters."""
    out = []
    for text in texts:
        if not text:
            out.append("#")
            continue
        # An indented paragraph (a list item) keeps its indent, plus two on later lines.
        indent = " " * (len(text) - len(text.lstrip()))
        later = indent + "  " if indent else ""
        wrapped = textwrap.wrap(text, width - 2, initial_indent="", subsequent_indent=later)
        wrapped = wrapped or [""]
        out += [f"# {line}" for line in wrapped]
    return out


# ------------------------------------------------------------------ parameters


def normal_param(mean: float, sd: float, low: float, high: float) -> dict | float:
    """A config normal, truncated to [low, high] only where six sds would cross a bound.

    A mean outside [low, high] (a wild estimate) is clipped to the nearer bound,
    so a written distribution never sits outside its own range; :func:`clip_note`
    says so in the config.
    """
    mean = min(max(mean, low), high)
    if not (math.isfinite(sd) and sd > 0):
        return round_sig(mean)
    out = {"dist": "normal", "mean": round_sig(mean), "sd": round_sig(sd)}
    if mean - 6 * sd <= low:
        out["low"] = low
    if mean + 6 * sd >= high:
        out["high"] = high
    return out


def clip_note(mean: float, low: float, high: float) -> list[str]:
    """The warning comment for an estimate that :func:`normal_param` clips (none if inside)."""
    if low <= mean <= high:
        return []
    bound = low if mean < low else high
    return [
        f"WARNING: the estimate {mean:.4g} is outside the range a config allows ({low:g} to "
        f"{high:g}): written clipped to {bound:g}. The records cannot support it; see "
        "docs/calibrate.md."
    ]


def _lognormal(median: float, log_sd: float, uncertain: bool) -> dict | float:
    value = lognormal_param(median, log_sd if uncertain else 0.0)
    if isinstance(value, dict):
        return {k: round_sig(v) if isinstance(v, float) else v for k, v in value.items()}
    return round_sig(value)


def _beta(mean: float, sd: float, uncertain: bool) -> dict | float:
    if uncertain and 0 < sd < math.sqrt(mean * (1 - mean)) and 0 < mean < 1:
        return {"dist": "beta", "mean": round_sig(mean), "sd": round_sig(sd)}
    return round_sig(mean)


def _pct(x: float, digits: int = 1) -> str:
    return f"{x * 100:+.{digits}f}%"


def _money(x: float) -> str:
    return f"£{x:,.0f}"


def _month(day: int) -> str:
    return str(from_day(day).astype("datetime64[M]"))


# ------------------------------------------------------------------ sections


def _caseload(svc: ServiceCalibration, cal: Calibration, name: str) -> Section:
    section = Section(f"{name}.caseload")
    elapsed = [round(float(x), 2) for x in svc.caseload_elapsed]
    n = len(elapsed)
    as_of, start = from_day(cal.as_of), date(cal.start_year, 4, 1)
    if n:
        section.comments.append(
            f"The {n:,} placements open on {as_of}, with the weeks each will have lasted by "
            f"{start} (median {np.median(elapsed):.1f}, longest {max(elapsed):.1f})."
        )
    else:
        section.comments.append(f"No placements open on {as_of}.")
    if svc.caseload_age is not None and n:
        known = np.isfinite(svc.caseload_age)
        older = int((svc.caseload_age[known] >= NEAR_LEAVING_AGE).sum())
        leaving = (
            f"Their placements end at {LEAVE_AT} (see ageing below)."
            if svc.ages is not None
            else f"Most leave care at {LEAVE_AT}, which the fitted lengths do not know."
        )
        section.comments.append(
            f"Children aged {NEAR_LEAVING_AGE:.0f} or over then: {older:,} "
            f"({int((~known).sum()):,} with no date of birth). {leaving}"
        )
    if svc.caseload_censored:
        section.comments.append(
            f"{svc.caseload_censored:,} of them continue episodes from before the records, so "
            "their elapsed weeks are lower bounds."
        )
    if svc.stale:
        section.comments.append(
            f"{svc.stale:,} stale open placements (open in an earlier return, the child in no "
            "later return) "
            + (
                "are kept as still open (--keep-stale)."
                if svc.stale_kept
                else "are left out (--keep-stale keeps them)."
            )
        )
    section.add("elapsed_weeks", elapsed)
    costs = svc.caseload_cost
    known = np.isfinite(costs)
    if n and known.any():
        fill = svc.costs.overall_mean if svc.costs else svc.info.default_cost["mean_gbp_per_week"]
        filled = [round(float(c), 2) for c in np.where(known, costs, fill)]
        why = [f"Their weekly costs in GBP, as recorded ({int(known.sum()):,} known)."]
        if not known.all():
            why.append(
                f"{int((~known).sum()):,} unknown: set to the fitted mean {_money(fill)} a week."
            )
        section.add("weekly_cost_gbp", filled, *why)
    return section


def _arrivals(svc: ServiceCalibration, cal: Calibration, name: str) -> Section:
    fit, data = svc.arrivals, svc.arrivals.data
    uncertain = cal.parameter_uncertainty
    section = Section(f"{name}.arrivals")
    months = data.month.size
    section.comments.append(
        f"{data.total:,} placements started in the {months} months {_month(svc.observed_from)} "
        f"to {_month(cal.as_of)} ({data.years:.1f} years of complete records)."
    )
    if data.total == 0:
        section.add("per_year", 0.0, "No starts in the records: no new placements simulated.")
        return section
    chosen = "Negative binomial" if fit.dispersion > 0 else "Poisson"
    other = (
        f"Poisson AIC {fit.aic_poisson:.1f}"
        if fit.dispersion > 0
        else f"negative binomial AIC {fit.aic_nb:.1f}"
    )
    aic = fit.aic_nb if fit.dispersion > 0 else fit.aic_poisson
    trend = "with a log-linear trend" if fit.trend else "without a trend"
    section.comments.append(
        f"{chosen} regression of monthly starts {trend}: AIC {aic:.1f} ({other}); "
        f"Pearson chi-square / df {fit.pearson:.2f} (near 1 when the spread is right)."
    )
    section.comments.append(_trend_choice(fit))
    if svc.moved_in:
        section.comments.append(
            f"Not counted: {svc.moved_in:,} placements that moved in from other services (written "
            "as moves there), so these are new placements only."
        )
    if data.repeat_starts:
        section.comments.append(
            f"{data.repeat_starts:,} of the starts are further placements of children already "
            "counted, so starts cluster by child: standard errors are cluster-robust by child "
            f"({fit.model_se_ratio:.2f} times the model-based one for the rate)."
        )
    per_year_sd = fit.log_rate_sd_for_config()
    rate_at = (
        f"Rate at {date(cal.start_year, 4, 1)}, on the trend as the growth below"
        if fit.trend_weight > 0
        else "Rate (flat: the average over the records)"
    )
    section.add(
        "per_year",
        _lognormal(fit.per_year, per_year_sd, uncertain),
        f"{rate_at}: {fit.per_year:.1f} a year (SE {fit.per_year_se:.1f}).",
        *(
            [
                f"Lognormal with that median; its log-scale sd {per_year_sd:.3f} matches the "
                "fitted rate's uncertainty mid-way through the first year, as the config draws "
                "per_year and growth independently."
            ]
            if uncertain and fit.per_year_se > 0
            else []
        ),
    )
    if fit.trend_weight > 0:
        low, high = GROWTH_RANGE
        section.add(
            "growth",
            normal_param(fit.growth, fit.growth_se, low, high)
            if uncertain
            else round_sig(min(max(fit.growth, low), high)),
            *_growth_words(fit),
            *clip_note(fit.growth, low, high),
        )
    elif fit.trend_tried:
        section.add("growth", 0.0, "Flat: the trend could not be fitted.")
    else:
        section.add("growth", 0.0, "No trend tried: too few months or starts (see above).")
    if fit.dispersion > 0:
        section.add(
            "dispersion",
            round_sig(min(fit.dispersion, 10.0)),
            f"Variance = mean + {fit.dispersion:.3g} mean^2 (SE {fit.dispersion_se:.2g}).",
        )
    return section


def _growth_words(fit) -> list[str]:
    """What the written growth is: the records' trend, how far the prior moved it, and why."""
    return [
        f"Growth {_pct(fit.growth)} a year (SE {fit.growth_se * 100:.1f} points): the trend in "
        f"the records, {_pct(fit.trend_growth)} a year (SE {fit.trend_growth_se * 100:.1f} "
        f"points), kept at {fit.trend_weight:.0%} of its size.",
        "The trend is written with its uncertainty, neither dropped nor taken as certain: "
        "records drift by chance, and a real trend should not be lost. It is pulled towards "
        "flat only as far as the records measure it poorly, as a sustained trend beyond "
        f"+-{2 * fit.prior_sd:.0%} a year is rare (a prior with sd {fit.prior_sd * 100:.0f} "
        "points).",
    ]


def _trend_choice(fit) -> str:
    """Which of trend and flat the arrivals fit chose, and why, in a sentence."""
    if not fit.trend_tried and fit.data.month.size < MIN_MONTHS_FOR_TREND:
        return (
            f"No trend tried: under {MIN_MONTHS_FOR_TREND} months of records (two full years "
            "are needed so that a seasonal high or low is not taken for a trend), so the rate is "
            "taken as flat; edit the growth if you know of a trend."
        )
    if not fit.trend_tried:
        return (
            f"No trend tried: under {MIN_STARTS_FOR_TREND} starts, too few to tell a trend "
            "from chance, so the rate is taken as flat; edit the growth if you know of a trend."
        )
    lr = f"likelihood ratio {fit.trend_lr:.2f}"
    if math.isfinite(fit.design_effect) and fit.design_effect > 1.005:
        lr += (
            f", divided by the design effect {fit.design_effect:.2f} of starts clustered by "
            f"child: {fit.trend_lr / fit.design_effect:.2f}"
        )
    level = f"{TREND_LR:.2f}, the 5% level"
    if fit.trend:
        return (
            f"Trend or flat, by likelihood: the trend improves the likelihood significantly "
            f"({lr}; above {level})."
        )
    return (
        f"Trend or flat, by likelihood: no significant trend, as a trend "
        f"({_pct(fit.trend_growth)} a year, SE {fit.trend_growth_se * 100:.1f} points) does "
        f"not improve the likelihood significantly ({lr}; not above {level})."
    )


def _outcomes(svc: ServiceCalibration, cal: Calibration) -> str:
    """How the placements of the length fit came out, in words: '120 ended, 4 censored ...'."""
    counts, data = svc.length_counts, svc.lengths.data
    parts = [f"{data.events:,} ended"]
    if counts.moved:
        parts.append(f"{counts.moved:,} censored at a move to another service (see moves)")
    if counts.aged:
        parts.append(f"{counts.aged:,} censored at the child's {LEAVE_AT}th birthday")
    if counts.stale:
        parts.append(f"{counts.stale:,} stale (censored at their last return)")
    parts.append(f"{counts.open:,} still open on {from_day(cal.as_of)}")
    return ", ".join(parts[:-1]) + " and " + parts[-1]


def _length(svc: ServiceCalibration, cal: Calibration, name: str) -> Section:
    fits, data = svc.lengths, svc.lengths.data
    best = fits.chosen
    uncertain = cal.parameter_uncertainty
    section = Section(f"{name}.length")
    section.comments.append(
        f"Censored maximum likelihood on {data.n:,} placements: {_outcomes(svc, cal)}"
        + (
            f"; {data.truncated:,} started before {from_day(svc.observed_from)} "
            "(counted from then: left-truncated)."
            if data.truncated
            else "."
        )
    )
    censored = int(data.censored.sum())
    if censored:
        section.comments.append(
            f"{censored:,} of those continue episodes from before the records (RNE L, T or U "
            "first): their start is known only to be on or before the recorded one, so it is "
            "treated as left-censored (problems.csv lists them)."
        )
    counts = svc.length_counts
    if counts.stale:
        section.comments.append(
            f"The {counts.stale:,} stale open placements (the child in no later return) are "
            "counted as lasting at least to the end of their last return."
        )
    if counts.moved or counts.aged:
        section.comments.append(
            "Those censored at a move or at 18 are counted as lasting at least until then, not "
            "as ended: the simulation ends placements at those events itself, and this length "
            "is the time to the placement's own end had they not come first."
        )
    if counts.no_dob:
        section.comments.append(
            f"{counts.no_dob:,} placements of children with no date of birth are left out: only "
            f"a known birthday can censor a placement at {LEAVE_AT}, and the simulation ends "
            f"every placement at {LEAVE_AT} (see ageing)."
        )
    ranking = ", ".join(
        f"{f.name} {f.aic:.1f}" + (" (chosen)" if f is best else f" (+{f.aic - best.aic:.1f})")
        for f in fits.fits.values()
    )
    section.comments.append(f"AIC: {ranking}.")
    close = [f.name for f in fits.fits.values() if f is not best and f.aic - best.aic < 2]
    if close:
        section.comments.append(
            f"{', '.join(close)} fit{'s' if len(close) == 1 else ''} about as well (AIC within 2)."
        )
    for family, why in fits.failed.items():
        section.comments.append(f"{family}: not fitted, {why}.")
    section.comments += [
        f"Fitted mean {best.value('mean'):.1f} weeks (SE {best.se('mean'):.1f}), median "
        f"{best.value('median'):.1f} weeks (SE {best.se('median'):.1f}).",
        f"Against Kaplan-Meier: largest gap {best.max_gap:.3f}; inside its "
        f"{fits.km.level:.0%} band at {best.inside:.0%} of points (see the plot).",
    ]
    family = best.family
    section.add("dist", family.name)
    section.add(
        family.scale_key,
        _lognormal(best.value("scale"), best.log_se("scale"), uncertain),
        f"{best.value('scale'):.1f} weeks (SE {best.se('scale'):.1f}).",
    )
    if family.shape_key:
        low, high = (0.01, 5.0) if family.shape_key == "sigma" else (0.05, 100.0)
        value, se = best.value("shape"), best.se("shape")
        section.add(
            family.shape_key,
            normal_param(value, se, low, high)
            if uncertain
            else round_sig(min(max(value, low), high)),
            f"{value:.3f} (SE {se:.3f}).",
            *clip_note(value, low, high),
        )
    return section


def _unit_cost(svc: ServiceCalibration, cal: Calibration, name: str) -> Section:
    section = Section(f"{name}.unit_cost")
    fit = svc.costs
    if fit is None:
        section.comments.append(
            "Not fitted: the records give no weekly costs. From the mapping file: "
            + (svc.info.default_cost_source or "(no source given)")
        )
        for key, value in svc.info.default_cost.items():
            section.add(key, value)
        return section
    uncertain = cal.parameter_uncertainty
    section.comments.append(
        f"{fit.n:,} weekly costs of placements starting {from_day(svc.cost_from)} to "
        f"{from_day(cal.as_of)}, as recorded (no inflation adjustment)."
    )
    if fit.tail:
        section.comments.append(
            f"Lognormal body and high-cost tail (two-component mixture on log cost): AIC "
            f"{fit.mixture.aic:.1f} against {fit.single.aic:.1f} for one lognormal."
        )
    else:
        section.comments.append(
            f"One lognormal (AIC {fit.single.aic:.1f}); no high-cost tail: {fit.why_no_tail}."
        )
    section.add(
        "mean_gbp_per_week",
        _lognormal(fit.mean, fit.mean_se / fit.mean, uncertain),
        f"{_money(fit.mean)} a week (SE {_money(fit.mean_se)}).",
    )
    section.add("cv", round_sig(fit.cv))
    if fit.tail:
        section.add(
            "high_cost_share",
            _beta(fit.share, fit.share_se, uncertain),
            f"{fit.share:.1%} of placements (SE {fit.share_se:.1%}).",
        )
        section.add(
            "high_cost_mean_gbp_per_week",
            _lognormal(fit.tail_mean, fit.tail_mean_se / fit.tail_mean, uncertain),
            f"{_money(fit.tail_mean)} a week (SE {_money(fit.tail_mean_se)}).",
        )
        section.add("high_cost_cv", round_sig(fit.tail_cv))
    return section


def _years(move: MoveFit) -> str:
    first, last = (from_day(d).astype(object).year for d in (move.first, move.last))
    return f"{first}-{last}" if first != last else str(first)


def _moves(svc: ServiceCalibration, cal: Calibration, name: str) -> list[Section]:
    labels = {s.key: s.info.label for s in cal.services}
    sections = []
    for move in svc.moves:
        section = Section(f"{name}.moves.{move.dest}")
        section.comments += [
            f"{move.per_year:.1%} of {svc.info.label} placements a year moved to "
            f"{labels[move.dest]}, {_years(move)}, {move.moves:,} moves.",
            f"Moves from {from_day(move.first)} to {from_day(move.last)}: a placement ending with "
            "REC X1 (care continues) followed that day by a change of placement (RNE P or B) in "
            f"{labels[move.dest]}; over {move.exposure_years:,.1f} years of {svc.info.label} "
            f"placements open then. Poisson rate {move.per_year:.4f} a year (SE "
            f"{move.se:.4f}). Pairs with fewer than {MIN_MOVES} moves, or that would close a "
            "circle, are ends and new arrivals instead (see the opening comment).",
        ]
        section.add(
            "per_year",
            _lognormal(move.per_year, move.log_se, cal.parameter_uncertainty),
            *(
                [
                    f"Lognormal with that median and log-scale sd {move.log_se:.3f} (1 / sqrt(moves))."
                ]
                if cal.parameter_uncertainty
                else []
            ),
        )
        sections.append(section)
    return sections


def _bands(shares: AgeShares) -> str:
    return ", ".join(
        f"{'under 1' if band == '0' else band} {p:.1%} (SE {se:.1%})"
        for (band, _, _), p, se in zip(BANDS, shares.shares, shares.se, strict=True)
    )


def _ageing(svc: ServiceCalibration, cal: Calibration, name: str) -> list[Section]:
    ages = svc.ages
    if ages is None:
        return []
    section = Section(f"{name}.ageing")
    section.comments += [
        f"Ages from the header's dates of birth: {describe(ages.entry)} of new placements.",
        f"Placements end on the child's {LEAVE_AT}th birthday. continue_to (young people who "
        "continue at 18 in an adults' service) is not fitted: the SSDA903 holds no adults' "
        "services. Add it if you know the share, e.g. continue_to = { supported_living = 0.1 }.",
    ]
    section.add("leave_at", LEAVE_AT)
    section.add(
        "age_at_entry",
        ages.entry.config(),
        f"Ages (whole years) on the day they started of the {ages.entry.n:,} new placements from "
        f"{from_day(svc.observed_from)} to {from_day(cal.as_of)} with a date of birth "
        f"({ages.entry.unknown:,} without; moves in keep the child's age and are not counted). "
        f"Shares: {_bands(ages.entry)}.",
    )
    if ages.open is not None:
        section.add(
            "open_ages",
            ages.open.config(),
            f"Ages on {date(cal.start_year, 4, 1)} of the {ages.open.n:,} placements open on "
            f"{from_day(cal.as_of)} with a date of birth ({ages.open.unknown:,} without): "
            f"{describe(ages.open)}; {se_words(ages.open)}.",
        )
    else:
        few = ages.open_few.n if ages.open_few is not None else 0
        placements = "1 placement open" if few == 1 else f"{few:,} placements open"
        section.comments.append(
            f"open_ages is not written: only {placements} on {from_day(cal.as_of)} "
            f"{'has' if few == 1 else 'have'} a date of birth (at least {MIN_AGES} are needed), "
            "so the simulation draws their ages from age_at_entry."
        )
    return [section]


def _service(svc: ServiceCalibration, cal: Calibration, budget: dict[str, float]) -> list[Section]:
    name = f"services.{svc.key}"
    head = Section(name)
    data = svc.lengths.data
    head.comments += [
        "-" * 75,
        f"{svc.info.label}: {svc.info.origin} in {svc.info.source}.",
        f"{data.n:,} placements followed, {len(svc.caseload_elapsed):,} open on "
        f"{from_day(cal.as_of)}. Plots: plots/{svc.key}.png.",
        *[f"WARNING: {w}" for w in svc.warnings],
    ]
    head.add("label", svc.info.label)
    if svc.info.department:
        head.add("department", svc.info.department)
    head.add(
        "budget_gbp",
        budget,
        "PLACEHOLDER, not a budget: the mean simulated cost of this config "
        f"({BUDGET_DRAWS:,} draws). Replace it with the service's budget before reading any "
        "overspend figure.",
    )
    head.add(
        "budget_placeholder",
        True,
        "Delete this line once budget_gbp holds the real budget; until then validate, run "
        "and the report say the budgets are placeholders.",
    )
    return [
        head,
        _caseload(svc, cal, name),
        _arrivals(svc, cal, name),
        _length(svc, cal, name),
        _unit_cost(svc, cal, name),
        *_moves(svc, cal, name),
        *_ageing(svc, cal, name),
    ]


def _preamble(cal: Calibration) -> list[str]:
    start = date(cal.start_year, 4, 1)
    plural = "s" if cal.years > 1 else ""
    lines = [
        f"Calibrated by `overspend calibrate` (overspend {__version__}) on "
        f"{datetime.now(UTC):%Y-%m-%d} from {', '.join(cal.sources)}.",
        f"As of {from_day(cal.as_of)}: the placements open then are the starting caseload; "
        f"the horizon starts on {start} ({cal.horizon_start}) and runs {cal.years} year{plural}.",
    ]
    if cal.as_of_reason:
        lines.append(f"The as-of date is {cal.as_of_reason}.")
    for source, day in cal.observed_from.items():
        how = (
            "inferred: the first month after the last gap of six months or more with no "
            "recorded end; set --since to change it"
            if source in cal.inferred_from
            else cal.observed_how.get(source, "given")
        )
        lines.append(f"Records in {source} complete from {from_day(day)} ({how}).")
    if cal.ignored_after:
        lines.append(f"{cal.ignored_after:,} placements starting after the as-of date are ignored.")
    lines += ["", "What cleaning did (every row in problems.csv):"]
    lines += [f"  {line}" for line in cal.log.summary()] or ["  nothing"]
    for key, why in cal.skipped.items():
        lines.append(f"Left out: {key}: {why}.")
    lines += [f"WARNING: {w}" for w in cal.warnings]
    if cal.parameter_uncertainty:
        spread = (
            "Each is a distribution centred on its estimate with its SE as the spread, so a run "
            "carries the calibration's own uncertainty too."
        )
    else:
        spread = (
            "Point estimates only (--no-parameter-uncertainty): runs will not show how "
            "uncertain the calibration itself is."
        )
    lines += [
        "",
        "Each fitted figure says how it was derived: sample size, period, fit statistic and "
        f"standard error (SE). {spread}",
        "Not fitted, to add yourself: budgets (placeholders below), inflation (costs stay at the "
        "prices recorded), income, savings and seasonality. See docs/calibrate.md.",
    ]
    return lines


def render(cal: Calibration, budgets: dict[str, dict[str, float]]) -> str:
    """The commented config text for given budgets (GBP by financial year, per service)."""
    parts = ["\n".join(comment_lines(_preamble(cal)))]
    council = Section("council")
    council.add("name", cal.council)
    horizon = Section("horizon")
    horizon.add("start", cal.horizon_start)
    horizon.add("years", cal.years)
    run = Section("run")
    run.add("draws", 10_000)
    run.add("seed", Raw(str(from_day(cal.as_of)).replace("-", "")))
    parts += [council.render(), horizon.render(), run.render()]
    for svc in cal.services:
        parts += [s.render() for s in _service(svc, cal, budgets[svc.key])]
    return "\n\n".join(parts) + "\n"


def _fy_labels(cal: Calibration) -> list[str]:
    return [fy_label(cal.start_year + i) for i in range(cal.years)]


def placeholder_budgets(config: Config, draws: int = BUDGET_DRAWS, seed: int = 1) -> dict:
    """Mean simulated outturn per service and financial year (GBP, to the nearest £1,000)."""
    from simulator import run

    ds = run(config, draws=draws, seed=seed, threads=1)
    mean = ds["outturn"].mean("draw")
    return {
        key: {
            fy: float(round(float(mean.sel(service=key, financial_year=fy)), -3))
            for fy in config.fy_labels
        }
        for key in config.services
    }


def to_toml(cal: Calibration, budget_draws: int = BUDGET_DRAWS) -> str:
    """The calibrated config as validated, commented TOML text.

    Budgets are placeholders: the mean simulated cost of the calibrated model
    itself, found by running the engine once with zero budgets.

    Parameters
    ----------
    cal : Calibration
    budget_draws : int
        Draws of that run.

    Returns
    -------
    str
    """
    zero = {svc.key: dict.fromkeys(_fy_labels(cal), 0) for svc in cal.services}
    draft = config_from_dict(tomllib.loads(render(cal, zero)), "calibrated config")
    budgets = placeholder_budgets(draft, budget_draws)
    text = render(cal, budgets)
    loads_config(text, "calibrated config")
    return text
