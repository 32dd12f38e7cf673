"""Arrivals: a trended Poisson or negative binomial regression on monthly counts.

The engine's arrivals equation (``simulator.model.equations``, equation 2) is::

    mean starts in month m = per_year * days[m] / days_in_fy[m] * (1 + growth) ** t[m]

with ``days_in_fy[m]`` the days of month m's financial year (365 or 366, so a
flat rate gives exactly ``per_year`` starts in every financial year),
``t[m]`` the mid-month time in years since the horizon start, and with
``dispersion`` phi > 0 the counts are negative binomial with variance
mean + phi mean^2. The regression fitted here is the same equation on the
observed months, so its estimates go into the config unchanged::

    log E[count_m] = log(exposure_m) + a + b * t_m

where exposure_m is the part of month m observed, as a fraction of its
financial year (days observed / days_in_fy), and t_m is the middle of that
part in years from the horizon start (negative in the past).
Then per_year = exp(a) at the horizon start and growth = exp(b) - 1.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import special, stats

from simulator.config.calendar import DAYS_PER_YEAR

from .mle import Estimate, fit

#: Fewer observed months than this and no trend is fitted (growth fixed at 0).
MIN_MONTHS_FOR_TREND = 12
# A dispersion estimate below this is indistinguishable from Poisson.
_MIN_DISPERSION = 1e-4


@dataclass(frozen=True)
class MonthlyCounts:
    """Starts per calendar month over the observation window.

    Attributes
    ----------
    month : numpy.ndarray
        ``datetime64[M]`` of each month with any part observed.
    count : numpy.ndarray
        Placements starting in the observed part of each month.
    exposure : numpy.ndarray
        Observed part of each month, as a fraction of its financial year.
    t : numpy.ndarray
        Middle of the observed part, in years from the origin (the horizon start).
    """

    month: np.ndarray
    count: np.ndarray
    exposure: np.ndarray
    t: np.ndarray

    @property
    def total(self) -> int:
        """Placements counted."""
        return int(self.count.sum())

    @property
    def years(self) -> float:
        """Length of the window, in financial years."""
        return float(self.exposure.sum())


def days_in_fy(days: np.ndarray) -> np.ndarray:
    """Days in the financial year (1 April to 31 March) holding each day: 365 or 366.

    The engine pro-rates a year's arrivals to a month by days[m] / days_in_fy[m],
    so the fit measures exposure the same way.

    Parameters
    ----------
    days : numpy.ndarray
        Days since 1970-01-01 (integers).

    Returns
    -------
    numpy.ndarray
        int64, the shape of ``days``.
    """
    month = np.asarray(days, dtype=np.int64).astype("datetime64[D]").astype("datetime64[M]")
    # Months since January 1970; April is month 3 of each year.
    n = month.astype(np.int64)
    april = n - (n - 3) % 12
    start = april.astype("datetime64[M]").astype("datetime64[D]")
    end = (april + 12).astype("datetime64[M]").astype("datetime64[D]")
    return (end - start).astype(np.int64)


def monthly_counts(
    start_days: np.ndarray, first_day: int, last_day: int, origin_day: int
) -> MonthlyCounts:
    """Count starts per calendar month from ``first_day`` to ``last_day`` inclusive.

    Parameters
    ----------
    start_days : numpy.ndarray
        Start dates as days since 1970-01-01.
    first_day, last_day : int
        The observation window, days since 1970-01-01 (both observed).
    origin_day : int
        Day from which time ``t`` is measured (the horizon start).

    Returns
    -------
    MonthlyCounts
    """
    first = np.datetime64(first_day, "D").astype("datetime64[M]")
    last = np.datetime64(last_day, "D").astype("datetime64[M]")
    months = np.arange(first, last + 1)
    edges = np.append(months, months[-1] + 1).astype("datetime64[D]").astype(np.int64)
    lo = np.maximum(edges[:-1], first_day)
    hi = np.minimum(edges[1:], last_day + 1)
    inside = (start_days >= first_day) & (start_days <= last_day)
    month_of = np.searchsorted(edges, start_days[inside], side="right") - 1
    count = np.bincount(month_of, minlength=months.size)[: months.size]
    return MonthlyCounts(
        month=months,
        count=count.astype(np.int64),
        exposure=(hi - lo) / days_in_fy(lo),
        t=(0.5 * (lo + hi) - origin_day) / DAYS_PER_YEAR,
    )


@dataclass(frozen=True)
class ArrivalFit:
    """Fitted arrival rate, trend and dispersion of one service.

    Attributes
    ----------
    data : MonthlyCounts
    trend : bool
        Whether a trend was fitted (enough months).
    model : str
        ``'poisson'`` or ``'negative binomial'``, the one with the lower AIC.
    coef : numpy.ndarray
        (a, b): log per_year at the origin and log(1 + growth); b is 0 without a trend.
    cov : numpy.ndarray
        2 x 2 covariance of ``coef`` (zero row and column for b without a trend).
    dispersion : float
        phi of the chosen model (0 for Poisson).
    dispersion_se : float
    aic_poisson, aic_nb : float
        AIC of each model (``nan`` for NB when it could not be fitted).
    pearson : float
        Pearson chi-square over residual degrees of freedom under the chosen
        model (about 1 when the model's variance is right).
    """

    data: MonthlyCounts
    trend: bool
    model: str
    coef: np.ndarray
    cov: np.ndarray
    dispersion: float
    dispersion_se: float
    aic_poisson: float
    aic_nb: float
    pearson: float

    @property
    def per_year(self) -> float:
        """Point estimate of arrivals per year at the horizon start."""
        return float(math.exp(self.coef[0]))

    @property
    def per_year_se(self) -> float:
        """Standard error of :attr:`per_year` (delta method)."""
        return self.per_year * math.sqrt(self.cov[0, 0])

    @property
    def growth(self) -> float:
        """Point estimate of the growth rate, fraction per year."""
        return float(math.expm1(self.coef[1]))

    @property
    def growth_se(self) -> float:
        """Standard error of :attr:`growth` (delta method)."""
        return (1.0 + self.growth) * math.sqrt(self.cov[1, 1])

    def log_rate_sd_for_config(self, t_match: float = 0.5) -> float:
        """Log-scale sd to give per_year in a config that draws it independently of growth.

        The fitted log rate at time t has variance
        var(a) + 2 t cov(a, b) + t^2 var(b), but a config draws per_year and
        growth independently, giving var(a') + t^2 var(b). Choosing
        var(a') = var(a) + 2 t_match cov(a, b) makes the two agree at
        ``t_match`` years (the middle of the first forecast year by default).
        """
        var = self.cov[0, 0] + 2.0 * t_match * self.cov[0, 1]
        return math.sqrt(max(var, 0.25 * self.cov[0, 0]))

    def expected(self, exposure: np.ndarray, t: np.ndarray) -> np.ndarray:
        """Expected counts for months of ``exposure`` and ``t`` as in :class:`MonthlyCounts`."""
        return exposure * np.exp(self.coef[0] + self.coef[1] * t)

    def interval(self, mean: np.ndarray, level: float = 0.8) -> tuple[np.ndarray, np.ndarray]:
        """Central ``level`` interval of a month's count under the chosen model."""
        lo_q, hi_q = 0.5 - level / 2, 0.5 + level / 2
        if self.dispersion > 0:
            r = 1.0 / self.dispersion
            p = r / (r + mean)
            return stats.nbinom.ppf(lo_q, r, p), stats.nbinom.ppf(hi_q, r, p)
        return stats.poisson.ppf(lo_q, mean), stats.poisson.ppf(hi_q, mean)


def _poisson_nll(theta: np.ndarray, y: np.ndarray, log_e: np.ndarray, x: np.ndarray) -> float:
    eta = log_e + theta[0] + theta[1] * x
    return float(np.sum(np.exp(eta) - y * eta + special.gammaln(y + 1.0)))


def _nb_nll(theta: np.ndarray, y: np.ndarray, log_e: np.ndarray, x: np.ndarray) -> float:
    if not -15.0 < theta[2] < 5.0:
        return math.inf
    mu = np.exp(log_e + theta[0] + theta[1] * x)
    r = math.exp(-theta[2])
    ll = (
        special.gammaln(y + r)
        - special.gammaln(r)
        - special.gammaln(y + 1.0)
        + r * np.log(r / (r + mu))
        + y * np.log(mu / (r + mu))
    )
    return -float(np.sum(ll))


def _pearson(y: np.ndarray, mu: np.ndarray, phi: float, n_params: int) -> float:
    df = max(y.size - n_params, 1)
    return float(np.sum((y - mu) ** 2 / (mu + phi * mu**2)) / df)


def _full_cov(est: Estimate, trend: bool) -> np.ndarray:
    cov = np.zeros((2, 2))
    k = 2 if trend else 1
    cov[:k, :k] = est.cov[:k, :k]
    return cov


def fit_arrivals(data: MonthlyCounts) -> ArrivalFit:
    """Fit the arrivals equation to monthly counts by maximum likelihood.

    Poisson and negative binomial (NB2) regressions are both fitted; the one
    with the lower AIC is kept. Time is centred on the window during fitting
    (so the two coefficients are nearly uncorrelated) and moved back to the
    origin afterwards, carrying the covariance with it.

    Parameters
    ----------
    data : MonthlyCounts
        At least one month.

    Returns
    -------
    ArrivalFit
    """
    if data.total == 0:
        # No starts at all: a rate of zero, known only to be small (the SE is not defined).
        zero = np.zeros((2, 2))
        return ArrivalFit(data, False, "poisson", np.array([-np.inf, 0.0]), zero, 0.0, 0.0,
                          math.nan, math.nan, math.nan)  # fmt: skip
    y = data.count.astype(np.float64)
    log_e = np.log(data.exposure)
    trend = data.month.size >= MIN_MONTHS_FOR_TREND
    centre = float(np.average(data.t, weights=data.exposure))
    x = data.t - centre if trend else np.zeros_like(data.t)
    rate0 = max(y.sum(), 0.5) / data.exposure.sum()
    k = 2 if trend else 1

    def coefs(theta: np.ndarray) -> np.ndarray:
        """(a, b) from the leading parameters; b is 0 without a trend."""
        return theta[:2] if trend else np.array([theta[0], 0.0])

    start = np.array([math.log(rate0), 0.0][:k])
    poisson = fit(lambda th: _poisson_nll(coefs(th), y, log_e, x), start)
    mu = data.exposure * np.exp(coefs(poisson.theta) @ np.vstack([np.ones_like(x), x]))
    phi0 = max(float(np.sum((y - mu) ** 2 - y) / np.sum(mu**2)), 0.01)
    nb = fit(
        lambda th: _nb_nll(np.append(coefs(th), th[-1]), y, log_e, x),
        np.append(poisson.theta, math.log(phi0)),
    )
    use_nb = (
        nb.converged
        and nb.aic < poisson.aic
        and math.exp(nb.theta[-1]) > _MIN_DISPERSION
        and np.all(np.isfinite(nb.cov))
    )
    chosen = nb if use_nb else poisson
    phi = math.exp(nb.theta[-1]) if use_nb else 0.0
    phi_se = phi * math.sqrt(nb.cov[-1, -1]) if use_nb else 0.0
    cov = _full_cov(chosen, trend)
    coef = coefs(chosen.theta)
    mu = data.exposure * np.exp(coef[0] + coef[1] * x)
    # Move the intercept from the window's centre to the origin: a0 = a - b * centre.
    shift = np.array([[1.0, -centre], [0.0, 1.0]]) if trend else np.eye(2)
    return ArrivalFit(
        data=data,
        trend=trend,
        model="negative binomial" if use_nb else "poisson",
        coef=shift @ coef,
        cov=shift @ cov @ shift.T,
        dispersion=phi,
        dispersion_se=phi_se,
        aic_poisson=poisson.aic,
        aic_nb=nb.aic if nb.converged else math.nan,
        pearson=_pearson(y, mu, phi, chosen.n_params),
    )
