"""Placement lengths: censored, left-truncated maximum likelihood and Kaplan-Meier.

Each placement contributes to the likelihood according to what the records
show about it. Dates are whole days, so a placement recorded as lasting d days
lasted between d - 1/2 and d + 1/2 days (interval-censored: a same-day
placement is not a zero-length one):

- ended by the as-of date: log(S(low) - S(high)), low and high those bounds;
- still open on the as-of date: log S(c), c the time it has lasted (right-censored);
- started before the records are complete (``observed_from``) and so in them
  only because it was still open then: both terms minus log S(e), e the time
  it had lasted by then (left truncation; otherwise long placements would be
  over-represented);
- started before the records are complete, *and* its first recorded episode
  continues earlier episodes that are not in them (``start_censored``): the
  start is known only to be on or before the recorded one (left-censored), so
  the time it had lasted when the records begin is at least e. Among
  placements open then, with starts at a steady rate, that time has density
  proportional to S, so S is replaced by its integral
  IS(x) = integral of S from x to infinity: log(IS(low) - IS(high)) - log IS(e)
  when ended, log IS(low) - log IS(e) when open, lengths counted from the
  recorded start.

Four families are fitted (the engine's lognormal, gamma, Weibull and
exponential) and the one with the lowest AIC is kept. The Kaplan-Meier curve,
with delayed entry for the truncated placements, is the model-free check.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import special, stats

from .mle import Estimate, fit

DAYS_PER_WEEK = 7.0
#: Fewer ended placements than this and only the one-parameter exponential is fitted.
MIN_EVENTS_FOR_SHAPE = 5
# Kaplan-Meier points with fewer placements at risk are too noisy to judge a fit by.
MIN_AT_RISK = 10


@dataclass(frozen=True)
class LengthData:
    """What the records say about each placement's length, in weeks.

    Attributes
    ----------
    low, high : numpy.ndarray
        The length is between these; ``high`` is ``inf`` while the placement is open.
    entry : numpy.ndarray
        Time already lasted when the records became complete (0 unless left-truncated).
    """

    low: np.ndarray
    high: np.ndarray
    entry: np.ndarray
    start_censored: np.ndarray | None = None

    @property
    def censored(self) -> np.ndarray:
        """Mask of placements whose start is left-censored (see the module docstring)."""
        if self.start_censored is None:
            return np.zeros(self.low.size, dtype=bool)
        return np.asarray(self.start_censored, dtype=bool)

    @property
    def n(self) -> int:
        """Placements."""
        return int(self.low.size)

    @property
    def ended(self) -> np.ndarray:
        """Mask of placements that ended by the as-of date."""
        return np.isfinite(self.high)

    @property
    def events(self) -> int:
        """Placements that ended by the as-of date."""
        return int(self.ended.sum())

    @property
    def truncated(self) -> int:
        """Placements that started before the records are complete."""
        return int((self.entry > 0).sum())

    @property
    def km_time(self) -> np.ndarray:
        """Exit time for Kaplan-Meier: the recorded length, or the time lasted so far."""
        return np.where(self.ended, np.maximum(0.5 * (self.low + self.high), 0.5 / 7), self.low)


def length_data(
    start: np.ndarray,
    end: np.ndarray,
    as_of: int,
    observed_from: int,
    start_censored: np.ndarray | None = None,
    seen_until: np.ndarray | None = None,
) -> LengthData:
    """Turn placement dates into length observations.

    Parameters
    ----------
    start, end : numpy.ndarray
        Days since 1970-01-01; ``end`` is NaN while open. Placements must start
        on or before ``as_of``; an end after ``as_of`` counts as still open.
    as_of : int
        Last day the records describe.
    observed_from : int
        First day from which every placement starting is in the records.
    start_censored : numpy.ndarray of bool, optional
        Placements that continue earlier episodes not in the records: those
        starting before ``observed_from`` get a left-censored start.
    seen_until : numpy.ndarray, optional
        Last day an open placement is known to have been open (NaN: ``as_of``);
        a stale open placement is right-censored there.

    Returns
    -------
    LengthData
        Placements that started before ``observed_from`` and ended by then are left
        out (a complete history would hold them; a truncated extract would not).
    """
    start = np.asarray(start, dtype=np.float64)
    end = np.asarray(end, dtype=np.float64)
    n = start.size
    censored = np.zeros(n, dtype=bool) if start_censored is None else np.asarray(start_censored)
    seen = np.full(n, float(as_of))
    if seen_until is not None:
        given = np.isfinite(seen_until)
        seen[given] = np.minimum(np.asarray(seen_until, dtype=np.float64)[given], as_of)
    open_ = np.isnan(end) | (end > as_of)
    keep = (start >= observed_from) | (open_ & (seen > observed_from)) | (end > observed_from)
    start, end, open_, seen = start[keep], end[keep], open_[keep], seen[keep]
    days = end - start
    low = np.where(open_, seen - start + 0.5, np.maximum(days - 0.5, 0.0))
    high = np.where(open_, np.inf, days + 0.5)
    before = start < observed_from
    entry = np.maximum(observed_from - start + 0.5, 0.0) * before
    return LengthData(
        low / DAYS_PER_WEEK,
        high / DAYS_PER_WEEK,
        entry / DAYS_PER_WEEK,
        censored[keep] & before,
    )


# ------------------------------------------------------------------ families


def _log_gamma_sf(x: np.ndarray, k: float, theta: float) -> np.ndarray:
    z = x / theta
    q = special.gammaincc(k, z)
    out = np.log(np.maximum(q, 1e-300))
    # Far in the tail Q(k, z) underflows; use its leading asymptotic term there.
    tail = q < 1e-250
    if np.any(tail):
        zt = z[tail]
        out[tail] = (k - 1.0) * np.log(zt) - zt - special.gammaln(k)
    return out


def _log_lognormal_isf(x: np.ndarray, th: np.ndarray) -> np.ndarray:
    # E[(X - x)+] = exp(mu + s^2/2) Phi((mu + s^2 - ln x) / s) - x Phi((mu - ln x) / s)
    mu, sigma = th[0], math.exp(th[1])
    log_x = np.log(np.maximum(x, 1e-300))
    a = mu + 0.5 * sigma**2 + special.log_ndtr((mu + sigma**2 - log_x) / sigma)
    b = np.where(x > 0, log_x + special.log_ndtr((mu - log_x) / sigma), -np.inf)
    return _log_diff(a, b)


def _log_gamma_isf(x: np.ndarray, th: np.ndarray) -> np.ndarray:
    # E[(X - x)+] = k theta Q(k + 1, x / theta) - x Q(k, x / theta)
    k, theta = math.exp(th[0]), math.exp(th[1])
    a = math.log(k * theta) + _log_gamma_sf(x, k + 1.0, theta)
    b = np.where(x > 0, np.log(np.maximum(x, 1e-300)) + _log_gamma_sf(x, k, theta), -np.inf)
    return _log_diff(a, b)


def _log_weibull_isf(x: np.ndarray, th: np.ndarray) -> np.ndarray:
    # scale Gamma(1 + 1/k) Q(1/k, (x / scale)^k)
    k, scale = math.exp(th[0]), math.exp(th[1])
    z = (np.maximum(x, 0.0) / scale) ** k
    return math.log(scale) + special.gammaln(1.0 + 1.0 / k) + _log_gamma_sf(z, 1.0 / k, 1.0)


@dataclass(frozen=True)
class Family:
    """A length distribution as the engine parameterises it.

    Attributes
    ----------
    name : str
        ``'lognormal'``, ``'gamma'``, ``'weibull'`` or ``'exponential'``.
    log_sf : callable
        log S(x; theta) for x in weeks and theta on the optimiser's scale.
    scale_key : str
        Config key of the scale: ``'median_weeks'`` or ``'mean_weeks'``.
    scale : callable
        The scale in weeks from theta.
    shape_key : str or None
        ``'sigma'``, ``'shape'`` or ``None``.
    shape : callable or None
    mean, median : callable
        Mean and median length in weeks from theta.
    start : callable
        Starting theta from the mean and sd of log lengths.
    log_isf : callable
        log of the integrated survival function, IS(x) = the integral of S
        from x to infinity (the mean excess beyond x), for left-censored starts.
    """

    name: str
    log_sf: Callable[[np.ndarray, np.ndarray], np.ndarray]
    scale_key: str
    scale: Callable[[np.ndarray], float]
    shape_key: str | None
    shape: Callable[[np.ndarray], float] | None
    mean: Callable[[np.ndarray], float]
    median: Callable[[np.ndarray], float]
    start: Callable[[float, float], np.ndarray]
    log_isf: Callable[[np.ndarray, np.ndarray], np.ndarray]

    def config(self, theta: np.ndarray) -> dict:
        """The config ``length`` table (point estimates)."""
        out = {"dist": self.name, self.scale_key: self.scale(theta)}
        if self.shape_key:
            out[self.shape_key] = self.shape(theta)
        return out

    def sf(self, x: np.ndarray, theta: np.ndarray) -> np.ndarray:
        """Survival function S(x), the share of placements lasting more than x weeks."""
        return np.exp(self.log_sf(np.asarray(x, dtype=np.float64), theta))


# Starting points from the mean (m) and sd (s) of log lengths.
FAMILIES: dict[str, Family] = {
    "lognormal": Family(
        name="lognormal",
        log_sf=lambda x, th: special.log_ndtr(
            -(np.log(np.maximum(x, 1e-300)) - th[0]) / math.exp(th[1])
        ),
        scale_key="median_weeks",
        scale=lambda th: math.exp(th[0]),
        shape_key="sigma",
        shape=lambda th: math.exp(th[1]),
        mean=lambda th: math.exp(th[0] + 0.5 * math.exp(2 * th[1])),
        median=lambda th: math.exp(th[0]),
        start=lambda m, s: np.array([m, math.log(s)]),
        log_isf=_log_lognormal_isf,
    ),
    "gamma": Family(
        name="gamma",
        log_sf=lambda x, th: _log_gamma_sf(x, math.exp(th[0]), math.exp(th[1])),
        scale_key="mean_weeks",
        scale=lambda th: math.exp(th[0] + th[1]),
        shape_key="shape",
        shape=lambda th: math.exp(th[0]),
        mean=lambda th: math.exp(th[0] + th[1]),
        median=lambda th: math.exp(th[1]) * special.gammaincinv(math.exp(th[0]), 0.5),
        start=lambda m, s: np.array([0.0, m]),
        log_isf=_log_gamma_isf,
    ),
    "weibull": Family(
        name="weibull",
        log_sf=lambda x, th: -((x / math.exp(th[1])) ** math.exp(th[0])),
        scale_key="mean_weeks",
        scale=lambda th: math.exp(th[1]) * math.gamma(1.0 + math.exp(-th[0])),
        shape_key="shape",
        shape=lambda th: math.exp(th[0]),
        mean=lambda th: math.exp(th[1]) * math.gamma(1.0 + math.exp(-th[0])),
        median=lambda th: math.exp(th[1]) * math.log(2.0) ** math.exp(-th[0]),
        start=lambda m, s: np.array([0.0, m]),
        log_isf=_log_weibull_isf,
    ),
    "exponential": Family(
        name="exponential",
        log_sf=lambda x, th: -x / math.exp(th[0]),
        scale_key="mean_weeks",
        scale=lambda th: math.exp(th[0]),
        shape_key=None,
        shape=None,
        mean=lambda th: math.exp(th[0]),
        median=lambda th: math.exp(th[0]) * math.log(2.0),
        start=lambda m, s: np.array([m]),
        log_isf=lambda x, th: th[0] - x / math.exp(th[0]),
    ),
}


def _log_diff(log_a: np.ndarray, log_b: np.ndarray) -> np.ndarray:
    """log(exp(log_a) - exp(log_b)) for log_a >= log_b, without cancellation."""
    d = log_b - log_a
    return log_a + np.where(d > -math.log(2.0), np.log(-np.expm1(d)), np.log1p(-np.exp(d)))


def log_likelihood(family: Family, theta: np.ndarray, data: LengthData, weight=None) -> float:
    """Log-likelihood of length observations (see the module docstring).

    Parameters
    ----------
    family : Family
    theta : numpy.ndarray
        Parameters on the optimiser's scale.
    data : LengthData
    weight : numpy.ndarray, optional
        How many placements each row stands for (rows may be aggregated).

    Returns
    -------
    float
    """
    w = np.ones(data.n) if weight is None else weight
    censored = data.censored
    ended = data.ended & ~censored
    truncated = (data.entry > 0) & ~censored
    with np.errstate(all="ignore"):
        # S is evaluated only where each term needs it: the survival functions
        # (the gamma's especially) are the cost of a fit.
        ll = family.log_sf(data.low, theta)
        log_high = family.log_sf(data.high[ended], theta)
        ll[ended] = _log_diff(ll[ended], log_high)
        ll[truncated] -= family.log_sf(data.entry[truncated], theta)
        if np.any(censored):
            ll[censored] = _censored_start_ll(family, theta, data, censored)
        total = float(np.sum(w * ll))
    return total if math.isfinite(total) else -math.inf


def _censored_start_ll(
    family: Family, theta: np.ndarray, data: LengthData, rows: np.ndarray
) -> np.ndarray:
    """Log-likelihood terms of placements with a left-censored start (module docstring)."""
    low, high, entry = data.low[rows], data.high[rows], data.entry[rows]
    ended = np.isfinite(high)
    out = family.log_isf(low, theta)
    if np.any(ended):
        # IS(low) - IS(high) is the integral of S over one recorded day: Simpson's rule
        # on S keeps it accurate where the two integrals nearly cancel.
        lo, hi = low[ended], high[ended]
        terms = np.vstack(
            [
                family.log_sf(lo, theta),
                math.log(4.0) + family.log_sf(0.5 * (lo + hi), theta),
                family.log_sf(hi, theta),
            ]
        )
        out[ended] = np.log(hi - lo) - math.log(6.0) + special.logsumexp(terms, axis=0)
    return out - family.log_isf(entry, theta)


def _aggregate(data: LengthData) -> tuple[LengthData, np.ndarray]:
    """Identical observations once each, with a count (dates are whole days)."""
    rows = np.column_stack([data.low, data.high, data.entry, data.censored])
    unique, counts = np.unique(rows, axis=0, return_counts=True)
    merged = LengthData(unique[:, 0], unique[:, 1], unique[:, 2], unique[:, 3] > 0)
    return merged, counts.astype(np.float64)


@dataclass(frozen=True)
class KaplanMeier:
    """Kaplan-Meier estimate of S(t) with a pointwise confidence band.

    Attributes
    ----------
    time : numpy.ndarray
        Distinct lengths at which placements ended, weeks.
    sf : numpy.ndarray
        S just after each time.
    low, high : numpy.ndarray
        Pointwise band (log-log transform, Greenwood variance).
    at_risk : numpy.ndarray
        Placements at risk at each time.
    level : float
    """

    time: np.ndarray
    sf: np.ndarray
    low: np.ndarray
    high: np.ndarray
    at_risk: np.ndarray
    level: float


def kaplan_meier(
    time: np.ndarray, event: np.ndarray, entry: np.ndarray | None = None, level: float = 0.95
) -> KaplanMeier:
    """Kaplan-Meier survival curve with delayed entry and a log-log confidence band.

    Parameters
    ----------
    time : numpy.ndarray
        Exit time of each placement (its length if ended, else how long it has lasted).
    event : numpy.ndarray of bool
        True where the placement ended.
    entry : numpy.ndarray, optional
        Time from which each placement was under observation (left truncation);
        it is in the risk set at t when entry < t <= time.
    level : float
        Confidence level of the band.

    Returns
    -------
    KaplanMeier
    """
    time = np.asarray(time, dtype=np.float64)
    event = np.asarray(event, dtype=bool)
    entry = np.zeros_like(time) if entry is None else np.asarray(entry, dtype=np.float64)
    t, d = np.unique(time[event], return_counts=True)
    entered = np.searchsorted(np.sort(entry), t, side="left")
    exited = np.searchsorted(np.sort(time), t, side="left")
    n = (entered - exited).astype(np.float64)
    valid = n > 0
    t, d, n = t[valid], d[valid], n[valid]
    sf = np.cumprod(1.0 - d / n)
    with np.errstate(divide="ignore", invalid="ignore"):
        greenwood = np.cumsum(np.where(n > d, d / (n * (n - d)), 0.0))
        z = stats.norm.ppf(0.5 + level / 2)
        log_sf = np.log(sf)
        half = z * np.sqrt(greenwood) / np.abs(log_sf)
        low = np.where(sf > 0, sf ** np.exp(half), 0.0)
        high = np.where(sf > 0, sf ** np.exp(-half), 0.0)
    low = np.where(np.isfinite(low), low, sf)
    high = np.where(np.isfinite(high), high, sf)
    return KaplanMeier(t, sf, low, high, n, level)


@dataclass(frozen=True)
class FamilyFit:
    """One family's maximum-likelihood fit and how it compares with Kaplan-Meier.

    Attributes
    ----------
    family : Family
    estimate : Estimate
    max_gap : float
        Largest |S_fit - S_KM| where at least ten placements are at risk.
    inside : float
        Share of those Kaplan-Meier points whose band contains the fitted curve.
    """

    family: Family
    estimate: Estimate
    max_gap: float
    inside: float

    @property
    def name(self) -> str:
        """Family name."""
        return self.family.name

    @property
    def aic(self) -> float:
        """AIC of the fit."""
        return self.estimate.aic

    def value(self, what: str) -> float:
        """Point estimate of ``'scale'``, ``'shape'``, ``'mean'`` or ``'median'`` (weeks)."""
        return float(getattr(self.family, what)(self.estimate.theta))

    def log_se(self, what: str) -> float:
        """Standard error of log(``what``): its relative standard error."""
        fn = getattr(self.family, what)
        return self.estimate.se(lambda th: math.log(fn(th)))

    def se(self, what: str) -> float:
        """Standard error of ``what`` (delta method)."""
        return self.value(what) * self.log_se(what)


@dataclass(frozen=True)
class LengthFit:
    """Every family fitted to one service's lengths, and the chosen one.

    Attributes
    ----------
    data : LengthData
    km : KaplanMeier
    fits : dict of str to FamilyFit
        Families that could be fitted, in order of AIC.
    failed : dict of str to str
        Families that could not be fitted, with the reason.
    """

    data: LengthData
    km: KaplanMeier
    fits: dict[str, FamilyFit]
    failed: dict[str, str]

    @property
    def chosen(self) -> FamilyFit:
        """The fit with the lowest AIC."""
        return next(iter(self.fits.values()))


def _compare_with_km(family: Family, est: Estimate, km: KaplanMeier) -> tuple[float, float]:
    ok = km.at_risk >= MIN_AT_RISK
    if not ok.any():
        return math.nan, math.nan
    fitted = family.sf(km.time[ok], est.theta)
    gap = float(np.max(np.abs(fitted - km.sf[ok])))
    inside = float(np.mean((fitted >= km.low[ok] - 1e-12) & (fitted <= km.high[ok] + 1e-12)))
    return gap, inside


def fit_lengths(data: LengthData, families: tuple[str, ...] | None = None) -> LengthFit | None:
    """Fit the length families by censored, truncated maximum likelihood.

    Parameters
    ----------
    data : LengthData
    families : tuple of str, optional
        Families to try (default: all four; only the exponential when fewer
        than :data:`MIN_EVENTS_FOR_SHAPE` placements have ended).

    Returns
    -------
    LengthFit or None
        ``None`` when no placement has ended (nothing to fit a length to).
    """
    if data.events == 0:
        return None
    if families is None:
        families = tuple(FAMILIES) if data.events >= MIN_EVENTS_FOR_SHAPE else ("exponential",)
    # Kaplan-Meier cannot place a placement whose start is unknown: it leaves them out
    # (they are left-truncated anyway, so the rest still estimate the hazard).
    known = ~data.censored
    km = kaplan_meier(data.km_time[known], data.ended[known], data.entry[known])
    rows, weight = _aggregate(data)
    log_mid = np.log(np.maximum(np.where(data.ended, data.km_time, data.low), 0.5 / 7))
    m, s = float(np.mean(log_mid)), max(float(np.std(log_mid)), 0.1)
    # The exponential's MLE without truncation or rounding: time at risk over events.
    exposure = float(np.sum(data.km_time - data.entry)) / data.events
    fits, failed = [], {}
    for name in families:
        family = FAMILIES[name]
        start = family.start(m, s) if name != "exponential" else np.array([math.log(exposure)])
        est = fit(lambda th, f=family: -log_likelihood(f, th, rows, weight), start)
        if not (est.converged and np.all(np.isfinite(est.cov))):
            failed[name] = "the likelihood has no clear maximum (too little data for this family)"
            continue
        fits.append(FamilyFit(family, est, *_compare_with_km(family, est, km)))
    if not fits:
        return None
    fits.sort(key=lambda f: f.aic)
    return LengthFit(data, km, {f.name: f for f in fits}, failed)
