"""From cleaned records to fitted figures for every service.

For each service the calibration fits, from the records up to the as-of date:

- arrivals per year, growth and dispersion (:mod:`.arrivals`), from placements
  starting while the records are complete;
- the length distribution (:mod:`.lengths`), from every placement the records
  follow, open ones as censored and earlier ones as left-truncated;
- the unit-cost distribution (:mod:`.costs`), from the most recent starts with
  a cost;
- the starting caseload: every placement open on the as-of date, with the
  weeks it will have lasted by the horizon start and its weekly cost;
- for children's services from SSDA903 episodes, the moves between services
  (:mod:`.moves`) and, with a header table, the ages (:mod:`.ages`).

Moves and ageing end placements in the engine *as well as* the drawn length
(whichever comes first), so the length fit must describe the placement's own
end only: a placement that moved (a modelled move) or ended at the child's
18th birthday (a service with ageing) is right-censored there, not counted as
an end, just as the competing risks are independent in the engine. A modelled
move is also left out of the destination's arrivals (new entrants only).

The horizon starts on the first 1 April after the as-of date, which is best
the 31 March before it: placements starting or ending between the two dates
are not in the starting caseload.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from datetime import date

import numpy as np
import pandas as pd

from simulator.config.calendar import fy_label
from simulator.config.inputs import allowed

from .ages import LEAVE_AT, AgeFit, fit_ages, left_at_leaving_age, whole_years
from .arrivals import ArrivalFit, fit_arrivals, monthly_counts
from .costs import CostFit, fit_costs
from .lengths import LengthFit, fit_lengths, length_data
from .moves import MIN_MOVES, MoveFit, choose_moves, count_moves, modelled_pairs
from .records import (
    DataError,
    ProblemLog,
    Records,
    ServiceInfo,
    collection_year_end,
    day_numbers,
    from_day,
    to_day,
)

#: A gap between the as-of date and the horizon start longer than this gets a warning (days).
MAX_GAP_DAYS = 31
#: Growth estimates larger than this (either way) get a warning (fraction per year).
STEEP_GROWTH = 0.25
#: The growth a config allows (``simulator.config.inputs``): a fitted trend outside it
#: is written clipped to it, with a warning.
_GROWTH = allowed("placements", "arrivals.growth")
GROWTH_RANGE = (_GROWTH.low, _GROWTH.high)
#: Calendar months with no recorded end that mark a gap before complete records.
GAP_MONTHS = 6
#: Cost look-back periods tried in turn until enough costs are found (years).
COST_PERIODS = (1, 2, 3, 5)
#: Costs wanted before the look-back stops widening: recent prices against enough
#: placements to see a high-cost tail.
MIN_COST_SAMPLE = 100
DAYS_PER_YEAR = 365.25
#: Fewest own ends (not at a move or at 18) among placements of children with a date of
#: birth for ageing to be written. With ageing, lengths are fitted on those placements alone
#: (only they can be censored at 18); with fewer ends the mean length's SE would be over
#: 1/sqrt(30), about 18% of it (exponential lengths), and the two-parameter families barely
#: determined: then no ageing is written and the lengths use every placement.
MIN_DOB_ENDS = 30


@dataclass(frozen=True)
class LengthCounts:
    """Placements in a length fit that did not end of their own accord, by why.

    Attributes
    ----------
    moved, aged : int
        Censored at a move to another service, at the 18th birthday.
    stale : int
        Stale open placements, censored at the end of the child's last return.
    open : int
        Still open on the as-of date.
    no_dob : int
        Placements left out of the fit because the child has no date of birth
        (with ageing only).
    """

    moved: int = 0
    aged: int = 0
    stale: int = 0
    open: int = 0
    no_dob: int = 0


@dataclass
class ServiceCalibration:
    """Everything fitted for one service.

    Attributes
    ----------
    info : ServiceInfo
    observed_from : int
        First day (days since 1970-01-01) of complete records for this service's file.
    arrivals : ArrivalFit
    lengths : LengthFit
    costs : CostFit or None
        ``None`` when the records give fewer than two costs.
    cost_from : int or None
        First start day of the placements whose costs were fitted.
    cost_sample : numpy.ndarray
        The weekly costs fitted, GBP per week.
    caseload_start : numpy.ndarray
        Start days of the placements open on the as-of date.
    caseload_elapsed : numpy.ndarray
        Weeks each will have lasted by the horizon start.
    caseload_cost : numpy.ndarray
        Their weekly costs, GBP per week (NaN when unknown).
    caseload_age : numpy.ndarray or None
        Age of the child in years at the horizon start (NaN when unknown), when
        dates of birth were given.
    warnings : list of str
    stale : int
        Stale open placements (see :func:`stale_mask`).
    stale_kept : bool
        Whether they were kept in the caseload (``keep_stale``).
    caseload_censored : int
        Placements in the caseload whose start is left-censored (their elapsed
        weeks are lower bounds).
    moves : list of MoveFit
        Moves from this service written into the config.
    moved_in : int
        Starts left out of the arrivals as moves in from another service.
    moved_out : int
        Placements ended by a modelled move: censored there in the length fit.
    ages : AgeFit or None
        Ages at entry and of the open caseload, when ageing is written.
    aged_out : int
        Placements that ended at the leaving age: censored there in the length fit.
    length_counts : LengthCounts
        Why the placements in the length fit that did not end are censored.
    """

    info: ServiceInfo
    observed_from: int
    arrivals: ArrivalFit
    lengths: LengthFit
    costs: CostFit | None
    cost_from: int | None
    cost_sample: np.ndarray
    caseload_start: np.ndarray
    caseload_elapsed: np.ndarray
    caseload_cost: np.ndarray
    caseload_age: np.ndarray | None
    warnings: list[str] = field(default_factory=list)
    stale: int = 0
    stale_kept: bool = False
    caseload_censored: int = 0
    moves: list[MoveFit] = field(default_factory=list)
    moved_in: int = 0
    moved_out: int = 0
    ages: AgeFit | None = None
    aged_out: int = 0
    length_counts: LengthCounts = field(default_factory=lambda: LengthCounts())

    @property
    def key(self) -> str:
        """Config service name."""
        return self.info.key


@dataclass
class Calibration:
    """A whole calibration: settings, per-service fits and what cleaning did.

    Attributes
    ----------
    council : str
    as_of : int
        Day (since 1970-01-01) the records are taken to describe.
    start_year : int
        Calendar year of the horizon's first April.
    years : int
        Financial years in the horizon.
    services : list of ServiceCalibration
    skipped : dict of str to str
        Services left out, with the reason.
    log : ProblemLog
    sources : list of str
    observed_from : dict of str to int
        First day of complete records, by file.
    inferred_from : set of str
        Files whose ``observed_from`` was inferred from the data.
    ignored_after : int
        Placements starting after the as-of date (left out).
    parameter_uncertainty : bool
        Whether the config carries the estimation uncertainty of each figure.
    warnings : list of str
    records : Records or None
        The records it was fitted to (for the caseload snapshot).
    as_of_reason : str
        Why the as-of date is what it is (given, or the default and its basis).
    keep_stale : bool
        Whether stale open placements were kept in the caseload.
    observed_how : dict of str to str
        How ``observed_from`` is known, for the files where it was not inferred.
    moves : list of MoveFit
        Every pair of services with a move while the records are complete,
        modelled or not (:mod:`.moves`).
    """

    council: str
    as_of: int
    start_year: int
    years: int
    services: list[ServiceCalibration]
    skipped: dict[str, str]
    log: ProblemLog
    sources: list[str]
    observed_from: dict[str, int]
    inferred_from: set[str]
    ignored_after: int
    parameter_uncertainty: bool = True
    warnings: list[str] = field(default_factory=list)
    records: Records | None = None
    as_of_reason: str = ""
    keep_stale: bool = False
    observed_how: dict[str, str] = field(default_factory=dict)
    moves: list[MoveFit] = field(default_factory=list)

    @property
    def horizon_start(self) -> str:
        """The first financial year, e.g. ``'2024/25'``."""
        return fy_label(self.start_year)

    @property
    def origin(self) -> int:
        """Day of the horizon start (1 April of ``start_year``)."""
        return to_day(date(self.start_year, 4, 1))

    def caseload_placements(self) -> pd.DataFrame:
        """The records' placements, less the stale ones left out of the caseload."""
        placements = self.records.placements
        if self.keep_stale:
            return placements
        return placements[~stale_mask(placements, self.as_of)]


def default_as_of(placements: pd.DataFrame) -> tuple[int, str]:
    """The default as-of date, and why: the end of the last complete collection year.

    A collection year (1 April to 31 March) is complete when the records hold a
    date in its March (:func:`~.records.collection_year_end`), so a stray 1 April,
    or a live extract part-way through a year, does not move the date past the
    last 31 March the records cover.

    Returns
    -------
    day : int
        Days since 1970-01-01.
    why : str
        The reason in words, for the summary and the config's comment.
    """
    days = np.concatenate([day_numbers(placements["start"]), day_numbers(placements["end"])])
    days = days[np.isfinite(days)]
    if days.size == 0:
        raise DataError("no placements left after cleaning: nothing to calibrate")
    latest = int(days.max())
    end = collection_year_end(days)
    if end is None:
        return latest, (
            "the latest date in the records (the default; no collection year is complete in "
            "them, as none of their dates is in a March)"
        )
    year = fy_label(from_day(end).astype(object).year - 1)
    why = f"the end of the last complete collection year, {year} (the default)"
    if latest > end:
        after = int((days > end).sum())
        why += (
            f"; {after:,} later date{'s' if after != 1 else ''} in the records, up to "
            f"{from_day(latest)}, {'are' if after != 1 else 'is'} after it: later starts are "
            "ignored and later ends treated as still open (--as-of to choose another date)"
        )
    return end, why


def _as_of(placements: pd.DataFrame, as_of) -> tuple[int, str]:
    if as_of is not None:
        return to_day(as_of), "given (--as-of)"
    return default_as_of(placements)


def infer_observed_from(start: np.ndarray, end: np.ndarray, as_of: int) -> int:
    """First day from which a file's records look complete.

    An extract covering a period holds every placement that started in it and,
    from before it, only those still open when it began, so its earliest end
    date marks its start. A stray early end date (a typing mistake) would push
    that back and make the early months look empty, so the period is taken to
    start at the first month after the last run of :data:`GAP_MONTHS` or more
    calendar months with no recorded end. Starting later than the true period
    is always safe (earlier placements are treated as left-truncated), only
    less efficient.

    Parameters
    ----------
    start, end : numpy.ndarray
        Days since 1970-01-01; ``end`` NaN while open.
    as_of : int

    Returns
    -------
    int
        The first day of a month, or the earliest start when nothing has ended.
    """
    ends = end[np.isfinite(end) & (end <= as_of)]
    if ends.size == 0:
        return int(np.min(start))
    months = np.unique(ends.astype(np.int64).astype("datetime64[D]").astype("datetime64[M]"))
    steps = np.diff(months.astype(np.int64))
    gaps = np.flatnonzero(steps > GAP_MONTHS)
    first = months[gaps[-1] + 1] if gaps.size else months[0]
    return int(first.astype("datetime64[D]").astype(np.int64))


def _cost_sample(
    rows: pd.DataFrame, start: np.ndarray, as_of: int
) -> tuple[np.ndarray, int | None]:
    """Costs of the most recent starts: the last year, widened until there are enough."""
    cost = rows["weekly_cost"].to_numpy(dtype=float)
    known = np.isfinite(cost)
    if known.sum() < 2:
        return np.empty(0), None
    for years in COST_PERIODS:
        since = as_of - round(years * DAYS_PER_YEAR)
        chosen = known & (start > since)
        if chosen.sum() >= MIN_COST_SAMPLE:
            return cost[chosen], since + 1
    return cost[known], int(start[known].min())


def _ages(records: Records, rows: pd.DataFrame, origin: int) -> np.ndarray | None:
    if records.ages is None:
        return None
    return (origin - day_numbers(_dob(records, rows))) / DAYS_PER_YEAR


def stale_mask(placements: pd.DataFrame, as_of: int) -> np.ndarray:
    """Placements still open in an earlier return whose child is in no later one, by ``as_of``.

    Such a placement ended (unrecorded) by the end of the child's last return
    (``last_seen``); on an earlier as-of date it was still open, so it is stale
    only once ``as_of`` is past that return.
    """
    if "last_seen" not in placements.columns:
        return np.zeros(len(placements), dtype=bool)
    seen = day_numbers(placements["last_seen"])
    return np.isfinite(seen) & (seen < as_of) & placements["end"].isna().to_numpy()


def open_mask(placements: pd.DataFrame, as_of: int, keep_stale: bool = False) -> np.ndarray:
    """The placements in the starting caseload: open on ``as_of``, stale ones left out by default."""
    start, end = day_numbers(placements["start"]), day_numbers(placements["end"])
    mask = (start <= as_of) & ~(np.isfinite(end) & (end <= as_of))
    return mask if keep_stale else mask & ~stale_mask(placements, as_of)


def _column(rows: pd.DataFrame, name: str) -> np.ndarray:
    """A text column of the placements ('' where missing, or for every row without it)."""
    if name not in rows.columns:
        return np.full(len(rows), "", dtype=object)
    return rows[name].fillna("").astype(str).to_numpy()


def _dob(records: Records, rows: pd.DataFrame) -> pd.Series:
    """Each placement's child's date of birth (NaT when unknown)."""
    return rows[["client"]].merge(records.ages, on="client", how="left")["dob"]


def _age_fit(
    dob: pd.Series, rows: pd.DataFrame, entering: np.ndarray, in_caseload: np.ndarray,
    origin: int,
) -> AgeFit:  # fmt: skip
    """Ages of the service's new placements (``entering``) and open ones (``dob``: :func:`_dob`)."""
    start = day_numbers(rows["start"])
    entry = whole_years(dob[entering], start[entering])
    opened = whole_years(dob[in_caseload], np.full(int(in_caseload.sum()), origin))
    return fit_ages(entry, opened)


def calibrate_service(
    records: Records,
    info: ServiceInfo,
    as_of: int,
    observed_from: int,
    origin: int,
    keep_stale: bool = False,
    moves: set[tuple[str, str]] | frozenset = frozenset(),
) -> ServiceCalibration | str:
    """Fit one service.

    Parameters
    ----------
    records : Records
    info : ServiceInfo
    as_of, observed_from, origin : int
        Days since 1970-01-01: the as-of date, the first day of complete
        records, and the horizon start.
    keep_stale : bool
        Keep stale open placements (see :func:`stale_mask`) in the caseload and
        as open in the length fit; by default they are left out of the caseload
        and their lengths right-censored at the end of their last return.
    moves : set of (str, str)
        The (from, to) pairs of services written as moves (:mod:`.moves`): a
        move in is not an arrival, and a move out censors the length.

    Returns
    -------
    ServiceCalibration or str
        The fits, or why the service cannot be fitted.
    """
    rows = records.placements[records.placements["service"] == info.key]
    start, end = day_numbers(rows["start"]), day_numbers(rows["end"])
    keep = start <= as_of
    rows, start, end = rows[keep], start[keep], end[keep]
    stale = stale_mask(rows, as_of)
    seen_until = np.where(stale & (not keep_stale), day_numbers(rows["last_seen"]), np.nan)
    censored = (
        rows["start_censored"].to_numpy(dtype=bool)
        if "start_censored" in rows.columns
        else np.zeros(len(rows), dtype=bool)
    )
    ended = np.isfinite(end) & (end <= as_of)
    moved_out = ended & np.array([(info.key, q) in moves for q in _column(rows, "moved_to")])
    moved_in = np.array([(p, info.key) in moves for p in _column(rows, "moved_from")], dtype=bool)
    in_caseload = open_mask(rows, as_of, keep_stale)
    window = (start >= observed_from) & (start <= as_of)
    # Children's dates of birth, looked up once (None: no header, or not a children's service).
    dob = _dob(records, rows) if records.ages is not None and info.children else None
    ages = _age_fit(dob, rows, window & ~moved_in, in_caseload, origin) if dob is not None else None
    warnings = []
    with_dob = np.ones(len(rows), dtype=bool)
    aged_out = np.zeros(len(rows), dtype=bool)
    if ages is not None:
        aged_out = ended & ~moved_out & left_at_leaving_age(dob, end)
        with_dob = dob.notna().to_numpy()
        fit_end = np.where(moved_out | aged_out, np.nan, end)
        own = length_data(start[with_dob], fit_end[with_dob], as_of, observed_from).events
        if own < MIN_DOB_ENDS:
            warnings.append(
                f"only {own:,} placements of children with a date of birth ended (of their own "
                f"accord, not at a move or at {LEAVE_AT}); at least {MIN_DOB_ENDS} are needed to "
                f"fit lengths censored at {LEAVE_AT}, so no ageing is written"
            )
            ages, with_dob, aged_out = None, np.ones(len(rows), dtype=bool), np.zeros_like(aged_out)
    # The engine ends a placement at a move or at 18 as well as at its drawn length, so
    # those are competing exits: the length is only known to be longer (censored there).
    # With ageing, only children with a date of birth can be censored at 18, and the engine
    # ages every placement, so the lengths are fitted on those children alone.
    competing = moved_out | aged_out
    seen_until = np.where(competing, end, seen_until)
    fit_end = np.where(competing, np.nan, end)
    why = {
        "moved": moved_out,
        "aged": aged_out,
        "stale": ~competing & np.isfinite(seen_until),
        "open": ~competing & ~np.isfinite(seen_until) & ~ended,
    }
    counts = {}
    for key, mask in why.items():
        m = mask & with_dob
        counts[key] = length_data(start[m], fit_end[m], as_of, observed_from, None, seen_until[m]).n
    data = length_data(
        start[with_dob], fit_end[with_dob], as_of, observed_from, censored[with_dob],
        seen_until[with_dob],
    )  # fmt: skip
    lengths = fit_lengths(data)
    if lengths is None:
        return f"none of its {len(rows):,} placements has ended, so no length can be fitted"
    clients = rows["client"].to_numpy()
    arrivals = fit_arrivals(
        monthly_counts(start[~moved_in], observed_from, as_of, origin, clients[~moved_in])
    )
    sample, cost_from = _cost_sample(rows, start, as_of)
    costs = fit_costs(sample)
    if costs is None and info.default_cost is None:
        return "the records give no weekly costs and the mapping gives no unit_cost"
    open_rows = rows[in_caseload]
    open_start = day_numbers(open_rows["start"])
    if arrivals.trend_weight > 0 and abs(arrivals.growth) > STEEP_GROWTH:
        warnings.append(
            f"arrivals trend {arrivals.growth:+.0%} a year: trends this steep rarely last; "
            "consider --since to fit a more recent period, or edit the growth"
        )
    low, high = GROWTH_RANGE
    if arrivals.trend_weight > 0 and not low <= arrivals.growth <= high:
        warnings.append(
            f"the fitted arrivals trend {arrivals.growth:+.0%} a year is outside the range a "
            f"config allows ({low:+.0%} to {high:+.0%}): written clipped to "
            f"{min(max(arrivals.growth, low), high):+.0%}; fit a longer or more recent period "
            "(--since), or edit the growth"
        )
    return ServiceCalibration(
        info=info,
        observed_from=observed_from,
        arrivals=arrivals,
        lengths=lengths,
        costs=costs,
        cost_from=cost_from,
        cost_sample=sample,
        caseload_start=open_start,
        caseload_elapsed=(origin - open_start) / 7.0,
        caseload_cost=open_rows["weekly_cost"].to_numpy(dtype=float),
        caseload_age=_ages(records, open_rows, origin),
        warnings=warnings,
        stale=int(stale.sum()),
        stale_kept=keep_stale,
        caseload_censored=int(censored[in_caseload].sum()),
        moved_in=int((moved_in & window).sum()),
        moved_out=int((moved_out & (end >= observed_from)).sum()),
        ages=ages,
        aged_out=int((aged_out & (end >= observed_from)).sum()),
        length_counts=LengthCounts(**counts, no_dob=int((~with_dob).sum())),
    )


def calibrate(
    records: Records,
    as_of: date | str | None = None,
    since: date | str | None = None,
    years: int = 1,
    council: str | None = None,
    parameter_uncertainty: bool = True,
    keep_stale: bool = False,
) -> Calibration:
    """Fit every service in the records.

    Parameters
    ----------
    records : Records
        From :func:`~.ssda903.load_ssda903` and/or :func:`~.packages.load_packages`
        (add two with ``+``).
    as_of : date or str, optional
        Date the records describe (default: the end of the last complete
        collection year, see :func:`default_as_of`). Later starts are ignored
        and later ends treated as still open, so an earlier date replays what
        was known then.
    since : date or str, optional
        First day of complete records, for every file (default: inferred per
        file by :func:`infer_observed_from`). A later date fits a more recent period.
    years : int
        Financial years in the horizon (1 to 5).
    council : str, optional
        Council name for the config.
    parameter_uncertainty : bool
        Write each fitted figure as a distribution with its standard error
        (default) rather than as a fixed number.
    keep_stale : bool
        Keep stale open placements (open in an earlier return, the child in no
        later one) in the starting caseload; by default they are left out.

    Returns
    -------
    Calibration

    Raises
    ------
    DataError
        When no service can be fitted.
    """
    if not 1 <= years <= 5:
        raise DataError(f"--years {years}: must be between 1 and 5")
    placements = records.placements
    as_of_day, as_of_reason = _as_of(placements, as_of)
    start_year = horizon_start_year(as_of_day)
    origin = to_day(date(start_year, 4, 1))
    observed, inferred, observed_how = _observation_starts(records, since, as_of_day)
    fitted, skipped, moves = _fit_services(records, as_of_day, observed, origin, keep_stale)
    if not fitted:
        reasons = "; ".join(f"{k}: {v}" for k, v in skipped.items()) or "no services"
        raise DataError(f"no service could be calibrated ({reasons})")
    log = ProblemLog(
        list(records.log.problems),
        records.log.notes + _move_notes(moves) + _age_notes(records, fitted),
        dict(records.log.columns),
    )
    return Calibration(
        council=council or _council_name(records),
        as_of=as_of_day,
        start_year=start_year,
        years=years,
        services=fitted,
        skipped=skipped,
        log=log,
        sources=records.sources,
        observed_from=observed,
        inferred_from=inferred,
        ignored_after=int((day_numbers(placements["start"]) > as_of_day).sum()),
        parameter_uncertainty=parameter_uncertainty,
        warnings=_warnings(as_of_day, origin, observed) + _stale_warnings(fitted, keep_stale),
        records=records,
        as_of_reason=as_of_reason,
        keep_stale=keep_stale,
        observed_how=observed_how,
        moves=moves,
    )


def _fit_services(
    records: Records, as_of: int, observed: dict[str, int], origin: int, keep_stale: bool
) -> tuple[list[ServiceCalibration], dict[str, str], list[MoveFit]]:
    """Fit every service, with the moves between them that can be modelled.

    A move to or from a service that cannot be fitted is not modelled; the
    services are then fitted again without it (it becomes an end and an arrival).
    """
    by_service = {key: observed[info.source] for key, info in records.services.items()}
    children = [key for key, info in records.services.items() if info.children]
    moves = choose_moves(count_moves(records.placements, children, as_of, by_service, keep_stale))
    while True:
        pairs = modelled_pairs(moves)
        fitted, skipped = [], {}
        for info in records.services.values():
            result = calibrate_service(
                records, info, as_of, observed[info.source], origin, keep_stale, pairs
            )
            if isinstance(result, str):
                skipped[info.key] = result
            else:
                fitted.append(result)
        lost = [m for m in moves if m.modelled and {m.source, m.dest} & set(skipped)]
        if not lost:
            break
        moves = [
            replace(m, modelled=False, why="a service it joins could not be fitted")
            if m in lost
            else m
            for m in moves
        ]
    for svc in fitted:
        svc.moves = [m for m in moves if m.modelled and m.source == svc.key]
    return fitted, skipped, moves


def _move_notes(moves: list[MoveFit]) -> list[str]:
    """The log's lines on moves between services: which are written, which not and why.

    Three lines at most (``fits.csv`` and the config's comments have each pair).
    """
    groups = {
        "written as moves": [m for m in moves if m.modelled],
        "not written, as they would close a circle of moves (kept as ends and new arrivals)": [
            m for m in moves if not m.modelled and "circle" in m.why
        ],
        f"not written, with under {MIN_MOVES} moves (kept as ends and new arrivals)": [
            m for m in moves if not m.modelled and m.why.startswith("only")
        ],
        "not written, as a service they join could not be fitted": [
            m for m in moves if not m.modelled and "could not be fitted" in m.why
        ],
    }
    notes = []
    for what, pairs in groups.items():
        if pairs:
            listed = ", ".join(f"{m.source} -> {m.dest} {m.moves:,}" for m in pairs)
            plural = "s" if len(pairs) != 1 else ""
            notes.append(f"moves between services: {len(pairs)} pair{plural} {what}: {listed}")
    return notes


def _age_notes(records: Records, fitted: list[ServiceCalibration]) -> list[str]:
    """The log's lines on ageing: why it is not written where it is not."""
    children = [svc for svc in fitted if svc.info.children]
    if not children:
        return []
    if records.ages is None:
        return [
            "ageing: no header table (dates of birth) given, so no ageing is written: the "
            f"simulated placements will not end at {LEAVE_AT} (give --header to fit it)"
        ]
    notes = [
        f"ageing: {svc.key}: too few new placements with a date of birth to fit ages; no "
        "ageing written"
        for svc in children
        if svc.ages is None
    ]
    if any(svc.ages is not None for svc in children):
        notes.append(
            "ageing: continue_to (young people continuing at 18 into adults' services) is not "
            "fitted: the SSDA903 holds no adults' services; add it yourself"
        )
    return notes


def _stale_warnings(fitted: list[ServiceCalibration], keep_stale: bool) -> list[str]:
    stale = sum(svc.stale for svc in fitted)
    if not stale:
        return []
    what = (
        f"{stale:,} stale open placement{'s' if stale != 1 else ''} (still open in an earlier "
        "return, but the child is in no later return; problems.csv lists them)"
    )
    if keep_stale:
        return [f"{what}: kept in the starting caseload as still open (--keep-stale)"]
    return [
        f"{what}: left out of the starting caseload, their lengths taken as lasting at least "
        "to the end of that return; --keep-stale keeps them"
    ]


def horizon_start_year(as_of: int) -> int:
    """Calendar year of the first 1 April after the as-of day (days since 1970-01-01)."""
    day = from_day(as_of).astype(object)
    return day.year + (1 if day >= date(day.year, 4, 1) else 0)


def _observation_starts(
    records: Records, since, as_of: int
) -> tuple[dict[str, int], set[str], dict[str, str]]:
    """First day of complete records for each file, the files where it was inferred, and how
    it is known where it was not."""
    placements = records.placements
    observed, inferred, how = {}, set(), {}
    for source in dict.fromkeys(placements["source"]):
        if since is not None:
            observed[source] = to_day(since)
            how[source] = "given (--since)"
        elif source in records.observed_from:
            observed[source] = to_day(records.observed_from[source])
            how[source] = records.observed_how.get(source, "given")
        else:
            rows = placements[placements["source"] == source]
            ends = records.recorded_ends.get(source, day_numbers(rows["end"]))
            observed[source] = infer_observed_from(day_numbers(rows["start"]), ends, as_of)
            inferred.add(source)
        if observed[source] > as_of:
            raise DataError(
                f"{source}: records complete from {from_day(observed[source])}, after the "
                f"as-of date {from_day(as_of)}: nothing to fit (check --since and --as-of)"
            )
    return observed, inferred, how


def _warnings(as_of: int, origin: int, observed: dict[str, int]) -> list[str]:
    warnings = []
    gap = origin - as_of - 1
    if gap > MAX_GAP_DAYS:
        warnings.append(
            f"the as-of date {from_day(as_of)} is {gap} days before the horizon starts on "
            f"{from_day(origin)}: placements starting or ending in between are not in the "
            "starting caseload (an as-of date of 31 March avoids this)"
        )
    for source, day in observed.items():
        if day > year_before(as_of):
            warnings.append(
                f"{source}: less than a year of complete records (from {from_day(day)}): "
                "the fits are rough"
            )
    return warnings


def year_before(as_of: int) -> int:
    """First day of the calendar year of records that ends on ``as_of`` (days since 1970-01-01).

    Records from this day to ``as_of`` inclusive cover exactly one year: 1 April
    2022 for 31 March 2023 (365 days), 1 April 2023 for 31 March 2024 (366 days).
    """
    after = pd.Timestamp(from_day(as_of + 1))
    return to_day(after - pd.DateOffset(years=1))


def _council_name(records: Records) -> str:
    clients = records.placements["client"]
    prefixes = {c.split("/")[0] for c in clients if "/" in c}
    if len(prefixes) == 1:
        return f"{prefixes.pop()} (calibrated)"
    return "Calibrated council"


def lognormal_param(median: float, log_sd: float) -> dict | float:
    """A config lognormal with this median and log-scale sd (its mean and sd as the config wants)."""
    if not (math.isfinite(log_sd) and log_sd > 0):
        return median
    mean = median * math.exp(0.5 * log_sd**2)
    return {"dist": "lognormal", "mean": mean, "sd": mean * math.sqrt(math.expm1(log_sd**2))}


def records_span(records: Records, since=None) -> tuple[int, int]:
    """The days the records cover completely: from the first day every file is complete to
    the default as-of date (days since 1970-01-01), as :func:`calibrate` would take them.

    Raises
    ------
    DataError
        When no placement is left after cleaning.
    """
    as_of, _ = default_as_of(records.placements)
    observed, _, _ = _observation_starts(records, since, as_of)
    return max(observed.values()), as_of
