"""Placement records simulated from a config: known answers for calibration.

``simulate_records`` runs a config's arrivals, lengths and unit costs backwards
in time from its horizon start and returns what a council's extract would
hold on an as-of date, in the packages layout that :func:`~.packages.load_packages`
reads. Calibrating those records should give back the config's figures within
their standard errors; the tests and ``docs/calibrate.md`` use it that way.
Each uncertain figure is taken at its median (records come from one world).
"""

from __future__ import annotations

import math
from datetime import date

import numpy as np
import pandas as pd
from scipy import special, stats

from simulator.config.schema import Config, Length, UnitCost, age_bands

from .arrivals import days_in_fy
from .records import from_day, to_day

DAYS_PER_YEAR = 365.25


def length_distribution(length: Length):
    """The config's length distribution (weeks) as a frozen ``scipy.stats`` distribution."""
    median = length.median_weeks.median() if length.median_weeks is not None else None
    mean = length.mean_weeks.median() if length.mean_weeks is not None else None
    if length.dist == "lognormal":
        sigma = length.sigma.median()
        scale = median if median is not None else mean * math.exp(-0.5 * sigma**2)
        return stats.lognorm(s=sigma, scale=scale)
    if length.dist == "gamma":
        k = length.shape.median()
        scale = mean / k if mean is not None else median / special.gammaincinv(k, 0.5)
        return stats.gamma(a=k, scale=scale)
    if length.dist == "weibull":
        k = length.shape.median()
        if mean is not None:
            return stats.weibull_min(c=k, scale=mean / math.gamma(1.0 + 1.0 / k))
        return stats.weibull_min(c=k, scale=median / math.log(2.0) ** (1.0 / k))
    return stats.expon(scale=mean if mean is not None else median / math.log(2.0))


def _lognormal(rng: np.random.Generator, mean: float, cv: float, n: int) -> np.ndarray:
    sigma = math.sqrt(math.log1p(cv * cv))
    return np.exp(math.log(mean) - 0.5 * sigma**2 + sigma * rng.standard_normal(n))


def draw_costs(rng: np.random.Generator, cost: UnitCost, n: int) -> np.ndarray:
    """Weekly costs (GBP per week) as the engine draws them: body, and a share in the tail."""
    out = _lognormal(rng, cost.mean_gbp_per_week.median(), cost.cv, n)
    share = cost.high_cost_share.median()
    if share > 0:
        tail = rng.random(n) < share
        out[tail] = _lognormal(
            rng, cost.high_cost_mean_gbp_per_week.median(), cost.high_cost_cv, int(tail.sum())
        )
    return out


def _start_days(
    rng: np.random.Generator, per_year: float, growth: float, dispersion: float,
    first: int, last: int, origin: int,
) -> np.ndarray:  # fmt: skip
    """Start days of placements, following the engine's arrivals equation."""
    days = np.arange(first, last + 1)
    # Each day is 1 / days_in_fy of its financial year, as the engine pro-rates months.
    trend = np.exp(np.log1p(growth) * (days - origin) / DAYS_PER_YEAR)
    rate = per_year / days_in_fy(days) * trend
    if dispersion > 0:
        months = days.astype("datetime64[D]").astype("datetime64[M]")
        _, which = np.unique(months, return_inverse=True)
        rate = rate * rng.gamma(1.0 / dispersion, dispersion, which.max() + 1)[which]
    return np.repeat(days, rng.poisson(rate))


def simulate_records(
    config: Config,
    complete_from: date | str,
    as_of: date | str,
    seed: int,
    history_years: float = 15.0,
) -> pd.DataFrame:
    """Placement records of a config's placements services, as an extract would hold them.

    Placements start from ``history_years`` before ``complete_from``; the extract
    holds every placement that started from ``complete_from`` on, and earlier ones
    only if still open then (left truncation). Ends after ``as_of`` are blank
    (still open). Dates are whole days: a placement of L weeks that starts on
    day s ends on day s + round(7 L).

    Parameters
    ----------
    config : Config
        Its horizon start is the origin of the growth trend, as in the engine.
    complete_from, as_of : date or str
    seed : int
    history_years : float
        How far back placements start, so the extract's oldest open ones are realistic.

    Returns
    -------
    pandas.DataFrame
        Columns ``client_id, service, start_date, end_date, weekly_cost`` (text,
        ISO dates), ready for ``to_csv`` and :func:`~.packages.load_packages`.
    """
    rng = np.random.default_rng(seed)
    origin = to_day(date(int(config.horizon.start[:4]), 4, 1))
    first_complete, last = to_day(complete_from), to_day(as_of)
    first = first_complete - int(history_years * DAYS_PER_YEAR)
    frames = []
    for key, svc in config.services.items():
        if svc.kind != "placements":
            continue
        a = svc.arrivals
        start = _start_days(
            rng, a.per_year.median(), a.growth.median(), a.dispersion, first, last, origin
        )
        weeks = length_distribution(svc.length).rvs(size=start.size, random_state=rng)
        end = start + np.round(weeks * 7.0)
        keep = (start >= first_complete) | (end > first_complete)
        start, end = start[keep], end[keep]
        cost = draw_costs(rng, svc.unit_cost, start.size)
        frames.append(
            pd.DataFrame(
                {
                    "client_id": [f"{key[:3].upper()}{i:06d}" for i in range(start.size)],
                    "service": key,
                    "start_date": [str(from_day(d)) for d in start],
                    "end_date": [str(from_day(d)) if d <= last else "" for d in end],
                    "weekly_cost": np.round(cost, 2),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


# ------------------------------------------------------------------ SSDA903 returns

#: SSDA903 codes (PLACE, PLACE_PROVIDER) that the default mapping takes to each service.
SERVICE_CODES = {
    "in_house_fostering": ("U4", "PR1"),
    "ifa_fostering": ("U4", "PR4"),
    "family_and_friends": ("U1", "PR1"),
    "childrens_homes": ("K2", "PR4"),
    "supported_accommodation": ("H5", "PR4"),
    "other": ("Z1", "PR0"),
}


def simulate_episodes(
    config: Config,
    as_of: date | str,
    seed: int,
    history_years: float = 15.0,
    legal_changes_per_year: float = 0.0,
    moves_per_child: float = 0.0,
    moves: dict[str, dict[str, float]] | None = None,
    age_at_entry: dict[str, float] | None = None,
) -> pd.DataFrame:
    """The complete episode history of a config's placements, in SSDA903 terms.

    Children enter each service following the engine's arrivals equation, at
    ``per_year / (1 + moves_per_child)`` a year, so that placements start at
    about ``per_year`` a year. Each placement's length is drawn from the
    service's length distribution; a child then moves to a new placement in the
    same service (RNE P, the day the last one ends) with probability
    m / (1 + m), m = ``moves_per_child`` (so m moves on average), or leaves care
    (REC E11). Within a placement the legal status changes at
    ``legal_changes_per_year`` a year: each change ends an episode (REC X1) and
    starts the next on the same day (RNE L). Ends may lie after ``as_of``.

    With ``moves`` or ``age_at_entry`` (both off by default, when the history is
    as it always was for a seed) the children are followed across services by
    :func:`_children_across_services`: ``moves[p][q]`` is the rate per year at
    which an open placement in p moves to q (ending with REC X1, the next one
    starting that day with RNE P or B), and ``age_at_entry`` the shares of
    children entering care by band of age (as a config's ``ageing.age_at_entry``),
    giving each child a date of birth (column ``DOB``) and ending placements on
    the 18th birthday.

    Returns
    -------
    pandas.DataFrame
        One row per episode: ``CHILD, DECOM, RNE, PLACE, PLACE_PROVIDER, DEC, REC``
        (dates as days since 1970-01-01, ``DEC`` always known) and ``placement``
        (an id shared by the episodes of one placement) and ``first`` (the
        placement's true start day); ``DOB`` too with ``age_at_entry``.
    """
    if moves or age_at_entry:
        return _children_across_services(
            config, as_of, seed, history_years, legal_changes_per_year, moves_per_child,
            moves or {}, age_at_entry,
        )  # fmt: skip
    rng = np.random.default_rng(seed)
    origin = to_day(date(int(config.horizon.start[:4]), 4, 1))
    last = to_day(as_of)
    first = last - int(history_years * DAYS_PER_YEAR)
    stay = moves_per_child / (1.0 + moves_per_child)
    rows: list[tuple] = []
    placement = 0
    for key, svc in config.services.items():
        if svc.kind != "placements":
            continue
        place, provider = SERVICE_CODES[key]
        a = svc.arrivals
        per_child = a.per_year.median() / (1.0 + moves_per_child)
        entries = _start_days(rng, per_child, a.growth.median(), a.dispersion, first, last, origin)
        # Lengths drawn in bulk (more than enough: each child has 1 + m placements on average).
        size = int(entries.size * (1.0 + moves_per_child) * 1.5) + 100
        days = np.maximum(
            np.round(length_distribution(svc.length).rvs(size, random_state=rng) * 7.0), 0
        )
        lengths = iter(days.astype(np.int64).tolist())
        for i, entry in enumerate(entries):
            child = f"{key[:3].upper()}{i:06d}"
            start, rne = int(entry), "S"
            while True:
                end = start + next(lengths)
                moves = start <= last and rng.random() < stay
                n_cuts = rng.poisson(legal_changes_per_year * (end - start) / DAYS_PER_YEAR)
                cuts = np.unique(rng.integers(start + 1, end, n_cuts)) if end > start + 1 else []
                bounds = [start, *[int(c) for c in cuts], end]
                for j in range(len(bounds) - 1):
                    final = j == len(bounds) - 2
                    rec = "X1" if (not final or moves) else "E11"
                    rows.append(
                        (child, bounds[j], rne if j == 0 else "L", place, provider,
                         bounds[j + 1], rec, placement, start)
                    )  # fmt: skip
                placement += 1
                if not moves:
                    break
                start, rne = end, "P"
    columns = ["CHILD", "DECOM", "RNE", "PLACE", "PLACE_PROVIDER", "DEC", "REC", "placement"]
    return pd.DataFrame(rows, columns=[*columns, "first"])


#: The age (years) at which the synthetic children leave care.
LEAVE_AT = 18
#: REC of a synthetic child leaving care at 18 (E8: ceased for any other reason).
AGED_OUT_REC = "E8"


class _Lengths:
    """Placement lengths in whole days drawn per service in blocks, as they are needed."""

    def __init__(self, config: Config, rng: np.random.Generator, block: int = 1024):
        self._law = {k: length_distribution(s.length) for k, s in config.services.items()}
        self._rng, self._block = rng, block
        self._left: dict[str, list[int]] = {}

    def next(self, key: str) -> int:
        left = self._left.get(key)
        if not left:
            days = self._law[key].rvs(self._block, random_state=self._rng) * 7.0
            left = np.maximum(np.round(days), 0).astype(np.int64).tolist()[::-1]
            self._left[key] = left
        return left.pop()


def _draw_age_days(rng: np.random.Generator, bands: dict[str, float]) -> int:
    """An age at entry in days: a band by its share, then uniform within it."""
    parsed = age_bands(bands)
    shares = np.array([b[2] for b in parsed])
    low, high, _ = parsed[rng.choice(len(parsed), p=shares / shares.sum())]
    return round((low + rng.random() * (high - low)) * DAYS_PER_YEAR)


def _birthday(dob: int, years: int) -> int:
    """Day (since 1970-01-01) of the ``years``-th birthday of a child born on day ``dob``."""
    born = from_day(dob).astype(object)
    try:
        return to_day(born.replace(year=born.year + years))
    except ValueError:  # born on 29 February: the birthday is 1 March in other years
        return to_day(date(born.year + years, 3, 1))


def _children_across_services(
    config: Config, as_of, seed: int, history_years: float, legal_changes_per_year: float,
    moves_per_child: float, moves: dict[str, dict[str, float]], age_at_entry: dict | None,
) -> pd.DataFrame:  # fmt: skip
    """:func:`simulate_episodes` with moves between services and ages (see there).

    Each placement ends at the first of its own length (drawn from its
    service's distribution), a move (an exponential time at the service's total
    move rate; the destination in proportion to the rates) and the child's 18th
    birthday. At its own end the child moves to a new placement in the same
    service with probability m / (1 + m), m = ``moves_per_child``, or leaves care.
    """
    rng = np.random.default_rng(seed)
    origin = to_day(date(int(config.horizon.start[:4]), 4, 1))
    last = to_day(as_of)
    first = last - int(history_years * DAYS_PER_YEAR)
    stay = moves_per_child / (1.0 + moves_per_child)
    lengths = _Lengths(config, rng)
    rows: list[tuple] = []
    placement = 0
    for key, svc in config.services.items():
        if svc.kind != "placements":
            continue
        a = svc.arrivals
        per_child = a.per_year.median() / (1.0 + moves_per_child)
        entries = _start_days(rng, per_child, a.growth.median(), a.dispersion, first, last, origin)
        for i, entry in enumerate(entries):
            child = f"{key[:3].upper()}{i:06d}"
            dob = int(entry) - _draw_age_days(rng, age_at_entry) if age_at_entry else None
            leave = _birthday(dob, LEAVE_AT) if dob is not None else None
            here, start, rne = key, int(entry), "S"
            while True:
                end, nxt = start + lengths.next(here), None
                rates = moves.get(here, {})
                total = sum(rates.values())
                if total > 0:
                    wait = math.ceil(rng.exponential(DAYS_PER_YEAR / total))
                    if start + wait < end:
                        end = start + wait
                        names = list(rates)
                        weights = np.array([rates[q] for q in names]) / total
                        nxt = names[rng.choice(len(names), p=weights)]
                aged = leave is not None and leave <= end
                if aged:
                    end, nxt = max(leave, start), None
                elif nxt is None and start <= last and rng.random() < stay:
                    nxt = here
                exit_rec = AGED_OUT_REC if aged else "E11"
                n_cuts = rng.poisson(legal_changes_per_year * (end - start) / DAYS_PER_YEAR)
                cuts = np.unique(rng.integers(start + 1, end, n_cuts)) if end > start + 1 else []
                bounds = [start, *[int(c) for c in cuts], end]
                place, provider = SERVICE_CODES[here]
                for j in range(len(bounds) - 1):
                    final = j == len(bounds) - 2
                    rec = "X1" if (not final or nxt is not None) else exit_rec
                    rows.append(
                        (child, bounds[j], rne if j == 0 else "L", place, provider,
                         bounds[j + 1], rec, placement, start, dob)
                    )  # fmt: skip
                placement += 1
                if nxt is None or end > last:
                    break
                rne = "P" if nxt == here or rng.random() < 0.75 else "B"
                here, start = nxt, end
    columns = ["CHILD", "DECOM", "RNE", "PLACE", "PLACE_PROVIDER", "DEC", "REC", "placement"]
    table = pd.DataFrame(rows, columns=[*columns, "first", "DOB"])
    return table if age_at_entry else table.drop(columns="DOB")


def header_from_history(episodes: pd.DataFrame) -> pd.DataFrame:
    """The SSDA903 header table (CHILD, DOB as DD/MM/YYYY) of a history with dates of birth."""
    children = episodes.drop_duplicates("CHILD")
    return pd.DataFrame(
        {"CHILD": children["CHILD"].to_numpy(), "DOB": _uk(children["DOB"]).to_numpy()}
    )


def _uk(days: pd.Series) -> pd.Series:
    return pd.Series(days.to_numpy(dtype=np.int64).astype("datetime64[D]")).dt.strftime("%d/%m/%Y")


def returns_from_history(
    episodes: pd.DataFrame,
    first_year: int,
    last_year: int,
    seed: int = 0,
    missed_exits: float = 0.0,
) -> dict[int, pd.DataFrame]:
    """The yearly returns a council would have made of an episode history.

    The return for the collection year ending on 31 March ``year`` holds every
    episode open at any time from the 1 April before: its DEC and REC blank when
    still open on 31 March. With ``missed_exits`` > 0, that share of children
    who leave care (REC not X1) in a year are missing from that year's return
    and every later one, as when a council fails to record an exit: earlier
    returns show them still open (stale open episodes).

    Returns
    -------
    dict of int to pandas.DataFrame
        By year (the 31 March ending it), the episodes table as text, DD/MM/YYYY
        dates, ready for ``to_csv``.
    """
    rng = np.random.default_rng(seed)
    dropped_from: dict[str, int] = {}
    if missed_exits > 0:
        exits = episodes[episodes["REC"] != "X1"]
        for child, dec in zip(exits["CHILD"], exits["DEC"], strict=True):
            year = from_day(int(dec)).astype(object)
            ends = year.year + (1 if year >= date(year.year, 4, 1) else 0)
            if first_year < ends <= last_year and rng.random() < missed_exits:
                dropped_from[child] = min(ends, dropped_from.get(child, ends))
    out = {}
    for year in range(first_year, last_year + 1):
        lo, hi = to_day(date(year - 1, 4, 1)), to_day(date(year, 3, 31))
        rows = episodes[(episodes["DECOM"] <= hi) & (episodes["DEC"] >= lo)]
        if dropped_from:
            gone = rows["CHILD"].map(dropped_from).fillna(10_000).to_numpy() <= year
            rows = rows[~gone]
        open_ = rows["DEC"] > hi
        out[year] = pd.DataFrame(
            {
                "CHILD": rows["CHILD"].to_numpy(),
                "DECOM": _uk(rows["DECOM"]).to_numpy(),
                "RNE": rows["RNE"].to_numpy(),
                "PLACE": rows["PLACE"].to_numpy(),
                "PLACE_PROVIDER": rows["PLACE_PROVIDER"].to_numpy(),
                "DEC": np.where(open_, "", _uk(rows["DEC"]).to_numpy()),
                "REC": np.where(open_, "", rows["REC"].to_numpy()),
            }
        )
    return out
