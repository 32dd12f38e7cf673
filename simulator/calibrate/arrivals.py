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

The growth written is the trended fit's, with its uncertainty, shrunk towards
flat by a normal prior on b = log(1 + growth) with mean 0 and sd
:data:`TREND_PRIOR_SD` (a Gaussian update of the fit's estimate and
cluster-robust covariance; the rate at the origin moves with it through their
correlation). With records of a few years the data dominate: a clear trend is
written at nearly its fitted value, and a chance drift with its own standard
error, which the forecast carries. The prior matters only where the records
say little about the trend (a short window, few starts): there it bounds the
growth's SE by the prior's sd, where the fit alone (two years of a service with
27 starts a year) gave SEs of 24 points, a tenth of them over 34, that, raised
to the power of the years ahead, inflated a four-year forecast (the mean of
(1 + growth) ** t grows with the SE: by a factor of 2.6 in the fourth year, on
average over such fits, against 1.3 with the prior). Checked against known
truths (docs/backtest.md): keeping a trend only when a 5% test found one, or
averaging flat and trend by Akaike weights, wrote too little of a real trend
(one-year-ahead 80% ranges held a caseload growing 10% a year 75% of the time,
mean PIT 0.60); the trend alone or with this prior held flat and growing truths
alike (the prior leaning a little towards flat for a strong trend: mean PIT 0.54 at
+10% a year). The likelihood-ratio test at the 5% level is still made, and reported,
as the plain words' "is there a trend".

Starts are not independent events when the same child starts several
placements (moves between carers in one service): counts in nearby months
move together, and the model-based standard errors are too small. The
covariance is therefore cluster-robust by child: the score's variance is the
model's information plus the products of the score contributions of every
pair of starts of the same child (of the same child in different months for
the negative binomial, whose dispersion already holds same-month pairs). With
one start per child it is exactly the model-based covariance.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import special, stats

from simulator.config.calendar import DAYS_PER_YEAR

from .mle import Estimate, fit

#: Fewer observed months than this and no trend is tried (growth fixed at 0): two full
#: years, so that every calendar month is seen twice and a seasonal high or low at either end
#: of the window is not taken for a trend (calibrate fits no seasonal pattern).
MIN_MONTHS_FOR_TREND = 24
#: Fewer starts than this and no trend is tried either: a slope and a level need about ten
#: events each before their likelihood (and so the trend's weight) means anything; with a
#: handful of starts the trend's fit runs off to a growth of -100% or +1000% a year.
MIN_STARTS_FOR_TREND = 20
#: The likelihood-ratio statistic a trend must exceed to be kept: the 5% point of
#: chi-square with one degree of freedom (a trend about two standard errors from zero).
TREND_LR = float(stats.chi2.ppf(0.95, 1))
#: sd of the prior on log(1 + growth): a sustained trend within about +-40% a year for 19 in
#: 20 services. Deliberately wide beside what councils' demand growth looks like (1% to 3% a
#: year nationally; docs/calibrate.md), so that it moves a trend measured over a few years
#: little (a fitted SE of 7 points is shrunk by a tenth) and only bounds a trend the records
#: hardly measure.
TREND_PRIOR_SD = 0.20
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
    start_month : numpy.ndarray or None
        Month (index into ``month``) of each start counted.
    start_cluster : numpy.ndarray or None
        The child (integer code) of each start counted, when known.
    """

    month: np.ndarray
    count: np.ndarray
    exposure: np.ndarray
    t: np.ndarray
    start_month: np.ndarray | None = None
    start_cluster: np.ndarray | None = None

    @property
    def repeat_starts(self) -> int:
        """Starts beyond each child's first in the window (0 when children are unknown)."""
        if self.start_cluster is None or self.start_cluster.size == 0:
            return 0
        return int(self.start_cluster.size - np.unique(self.start_cluster).size)

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
    start_days: np.ndarray,
    first_day: int,
    last_day: int,
    origin_day: int,
    clients: np.ndarray | None = None,
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
    clients : numpy.ndarray, optional
        The child (or client) of each start, for cluster-robust standard errors.

    Returns
    -------
    MonthlyCounts
    """
    start_days = np.asarray(start_days)
    first = np.datetime64(first_day, "D").astype("datetime64[M]")
    last = np.datetime64(last_day, "D").astype("datetime64[M]")
    months = np.arange(first, last + 1)
    edges = np.append(months, months[-1] + 1).astype("datetime64[D]").astype(np.int64)
    lo = np.maximum(edges[:-1], first_day)
    hi = np.minimum(edges[1:], last_day + 1)
    inside = (start_days >= first_day) & (start_days <= last_day)
    month_of = np.searchsorted(edges, start_days[inside], side="right") - 1
    count = np.bincount(month_of, minlength=months.size)[: months.size]
    cluster = None
    if clients is not None:
        _, cluster = np.unique(np.asarray(clients)[inside].astype(str), return_inverse=True)
    return MonthlyCounts(
        month=months,
        count=count.astype(np.int64),
        exposure=(hi - lo) / days_in_fy(lo),
        t=(0.5 * (lo + hi) - origin_day) / DAYS_PER_YEAR,
        start_month=month_of.astype(np.int64),
        start_cluster=None if cluster is None else cluster.astype(np.int64),
    )


@dataclass(frozen=True)
class ArrivalModel:
    """One model's estimate of the arrivals equation's coefficients, at the origin.

    Attributes
    ----------
    coef : numpy.ndarray
        (a, b): log per_year at the origin and log(1 + growth); b is 0 for the flat model.
    cov : numpy.ndarray
        2 x 2 cluster-robust covariance of ``coef`` (zero row and column for b
        in the flat model).
    """

    coef: np.ndarray
    cov: np.ndarray

    @property
    def per_year(self) -> float:
        """Arrivals per year at the horizon start."""
        return float(math.exp(self.coef[0]))

    @property
    def per_year_se(self) -> float:
        """Standard error of :attr:`per_year` (delta method)."""
        return self.per_year * math.sqrt(self.cov[0, 0])

    @property
    def growth(self) -> float:
        """Growth rate, fraction per year."""
        return float(math.expm1(self.coef[1]))

    @property
    def growth_se(self) -> float:
        """Standard error of :attr:`growth` (delta method)."""
        return (1.0 + self.growth) * math.sqrt(self.cov[1, 1])


def shrink(trended: ArrivalModel, prior_sd: float = TREND_PRIOR_SD) -> tuple[ArrivalModel, float]:
    """The trended fit updated by a normal prior on b with mean 0 and sd ``prior_sd``.

    The fit's estimate and covariance are taken as a normal likelihood for (a, b),
    and the prior is flat in a: the posterior has precision cov^-1 + diag(0, 1 / sd^2)
    and mean cov_post cov^-1 coef. Its b is the fit's times
    sd^2 / (sd^2 + var(b)), the weight returned.

    Parameters
    ----------
    trended : ArrivalModel
        The trended fit at the origin (b in log(1 + growth) per year).
    prior_sd : float
        sd of the prior on b, per year.

    Returns
    -------
    (ArrivalModel, float)
        The posterior mean and covariance, and the weight on the fitted b.
    """
    precision = np.linalg.inv(trended.cov)
    precision[1, 1] += 1.0 / prior_sd**2
    cov = np.linalg.inv(precision)
    coef = cov @ np.linalg.solve(trended.cov, trended.coef)
    weight = prior_sd**2 / (prior_sd**2 + trended.cov[1, 1])
    return ArrivalModel(coef, 0.5 * (cov + cov.T)), float(weight)


@dataclass(frozen=True)
class ArrivalFit:
    """Fitted arrival rate, trend and dispersion of one service.

    The rate and growth written into a config (``coef``, ``cov`` and the
    properties read from them) are the trended model's, shrunk towards flat by
    the prior on the growth (module docstring); ``trend`` is the 5%
    likelihood-ratio test's verdict, for the words.

    Attributes
    ----------
    data : MonthlyCounts
    trend : bool
        Whether the likelihood-ratio test (5% level) finds a trend.
    model : str
        ``'poisson'`` or ``'negative binomial'``, the one with the lower AIC.
    coef : numpy.ndarray
        (a, b): log per_year at the origin and log(1 + growth), the trended
        model's with the prior (:func:`shrink`); the flat model's, b = 0, when no
        trend was tried.
    cov : numpy.ndarray
        2 x 2 posterior covariance of ``coef``, from the model's cluster-robust
        covariance (zero row and column for b when no trend was tried).
    dispersion : float
        phi of the model the test chose (0 for Poisson).
    dispersion_se : float
    aic_poisson, aic_nb : float
        AIC of each model (``nan`` for NB when it could not be fitted).
    pearson : float
        Pearson chi-square over residual degrees of freedom under the chosen
        model (about 1 when the model's variance is right).
    trend_tried : bool
        Whether a trend was tried (enough months).
    trend_lr : float
        Likelihood-ratio statistic of the trend against the flat model (nan when not tried).
    design_effect : float
        Cluster-robust over model-based variance of the trend (1 without repeat
        starts; nan when not tried); the likelihood ratio is divided by it (at least 1).
    trend_growth, trend_growth_se : float
        The trended model's growth and its SE, whatever its weight.
    model_se_ratio : float
        Cluster-robust over model-based SE of log per_year in the model the test
        chose (1 without repeat starts).
    trend_weight : float
        Share of the fitted trend kept in the written growth's b after the prior,
        sd^2 / (sd^2 + var(b)) (0 when no trend was tried or fitted).
    prior_sd : float
        sd of the prior on log(1 + growth) the written trend was shrunk by (:data:`TREND_PRIOR_SD`).
    flat, trended : ArrivalModel or None
        Each model's own estimate (``trended`` None when not tried).
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
    trend_tried: bool = False
    trend_lr: float = math.nan
    design_effect: float = math.nan
    trend_growth: float = math.nan
    trend_growth_se: float = math.nan
    model_se_ratio: float = 1.0
    trend_weight: float = 0.0
    prior_sd: float = TREND_PRIOR_SD
    flat: ArrivalModel | None = None
    trended: ArrivalModel | None = None

    @property
    def written(self) -> ArrivalModel:
        """The coefficients written into the config, as an :class:`ArrivalModel`."""
        return ArrivalModel(self.coef, self.cov)

    @property
    def per_year(self) -> float:
        """Arrivals per year at the horizon start, as written (trend and prior)."""
        return self.written.per_year

    @property
    def per_year_se(self) -> float:
        """Standard error of :attr:`per_year` (delta method)."""
        return self.written.per_year_se

    @property
    def growth(self) -> float:
        """Growth rate, fraction per year, as written (trend and prior)."""
        return self.written.growth

    @property
    def growth_se(self) -> float:
        """Standard error of :attr:`growth` (delta method)."""
        return self.written.growth_se

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


def _poisson_grad(theta: np.ndarray, y: np.ndarray, log_e: np.ndarray, x: np.ndarray):
    resid = np.exp(log_e + theta[0] + theta[1] * x) - y
    return np.array([resid.sum(), resid @ x])


def _nb_grad(theta: np.ndarray, y: np.ndarray, log_e: np.ndarray, x: np.ndarray):
    if not -15.0 < theta[2] < 5.0:
        return np.zeros(3)
    mu = np.exp(log_e + theta[0] + theta[1] * x)
    r = math.exp(-theta[2])
    score = r * (y - mu) / (r + mu)
    d_r = special.digamma(y + r) - special.digamma(r) + np.log(r / (r + mu)) + (mu - y) / (r + mu)
    return -np.array([score.sum(), score @ x, -r * d_r.sum()])


def _pearson(y: np.ndarray, mu: np.ndarray, phi: float, n_params: int) -> float:
    df = max(y.size - n_params, 1)
    return float(np.sum((y - mu) ** 2 / (mu + phi * mu**2)) / df)


def cluster_pairs(data: MonthlyCounts, weight: np.ndarray, design: np.ndarray, nb: bool):
    """The score covariance from pairs of starts of the same child.

    Each start i contributes u_i = w_m x_m to the score of the regression
    coefficients (m its month, w_m = 1 / (1 + phi mu_m), x_m the month's design
    row). For starts clustered by child, the variance of the score is the
    model's information plus the sum over children of the products u_i u_j'
    of their pairs of starts; for the negative binomial only pairs in
    different months, as its dispersion already holds pairs in one month.

    Parameters
    ----------
    data : MonthlyCounts
    weight : numpy.ndarray
        w_m per month.
    design : numpy.ndarray
        Months x k design matrix.
    nb : bool

    Returns
    -------
    numpy.ndarray
        k x k; zero when children are unknown or none starts twice.
    """
    k = design.shape[1]
    if data.start_cluster is None or data.repeat_starts == 0:
        return np.zeros((k, k))
    m, c = data.start_month, data.start_cluster
    u = weight[m, None] * design[m]
    by_child = np.zeros((int(c.max()) + 1, k))
    np.add.at(by_child, c, u)
    total = by_child.T @ by_child
    if nb:
        cells, which = np.unique(c * design.shape[0] + m, return_inverse=True)
        by_cell = np.zeros((cells.size, k))
        np.add.at(by_cell, which, u)
        return total - by_cell.T @ by_cell
    return total - u.T @ u


def _robust(est: Estimate, data, x: np.ndarray, k: int, nb: bool) -> np.ndarray:
    """Cluster-robust covariance of ``est`` (regression coefficients first, k of them)."""
    coef = est.theta[:k] if k == 2 else np.array([est.theta[0], 0.0])
    mu = data.exposure * np.exp(coef[0] + coef[1] * x)
    phi = math.exp(est.theta[-1]) if nb else 0.0
    design = np.column_stack([np.ones_like(x), x])[:, :k]
    pairs = np.zeros((est.theta.size, est.theta.size))
    pairs[:k, :k] = cluster_pairs(data, 1.0 / (1.0 + phi * mu), design, nb)
    cov = est.cov + est.cov @ pairs @ est.cov
    # Never tighter than the model: pairs of one child can only add information
    # about the rate, not remove uncertainty.
    if not np.all(np.isfinite(cov)) or np.any(np.diag(cov) < np.diag(est.cov)):
        return est.cov
    return cov


def _fit_pair(y, log_e, x, k, rate0):
    """Poisson and negative binomial fits with k regression coefficients (1: flat, 2: trend)."""

    def coefs(theta: np.ndarray) -> np.ndarray:
        return theta[:2] if k == 2 else np.array([theta[0], 0.0])

    keep = [0, 1, 2] if k == 2 else [0, 2]  # gradient entries of the free parameters
    start = np.array([math.log(rate0), 0.0][:k])
    poisson = fit(
        lambda th: _poisson_nll(coefs(th), y, log_e, x),
        start,
        lambda th: _poisson_grad(coefs(th), y, log_e, x)[:k],
    )
    mu = np.exp(log_e + coefs(poisson.theta) @ np.vstack([np.ones_like(x), x]))
    phi0 = max(float(np.sum((y - mu) ** 2 - y) / np.sum(mu**2)), 0.01)
    nb = fit(
        lambda th: _nb_nll(np.append(coefs(th), th[-1]), y, log_e, x),
        np.append(poisson.theta, math.log(phi0)),
        lambda th: _nb_grad(np.append(coefs(th), th[-1]), y, log_e, x)[keep],
    )
    return poisson, nb


def _use_nb(poisson: Estimate, nb: Estimate) -> bool:
    return bool(
        nb.converged
        and nb.aic < poisson.aic
        and math.exp(nb.theta[-1]) > _MIN_DISPERSION
        and np.all(np.isfinite(nb.cov))
    )


def _at_origin(theta: np.ndarray, robust: np.ndarray, k: int, centre: float) -> ArrivalModel:
    """A model's (a, b) and covariance with time moved from the window's centre to the origin.

    The intercept at the origin is a0 = a - b * centre; the flat model (k = 1) has b = 0.
    """
    coef = theta[:2] if k == 2 else np.array([theta[0], 0.0])
    cov = np.zeros((2, 2))
    cov[:k, :k] = robust[:k, :k]
    shift = np.array([[1.0, -centre], [0.0, 1.0]]) if k == 2 else np.eye(2)
    return ArrivalModel(shift @ coef, shift @ cov @ shift.T)


def fit_arrivals(data: MonthlyCounts) -> ArrivalFit:
    """Fit the arrivals equation to monthly counts by maximum likelihood.

    Poisson and negative binomial (NB2) regressions are both fitted, without and
    (from :data:`MIN_MONTHS_FOR_TREND` months and :data:`MIN_STARTS_FOR_TREND` starts)
    with a trend. The variance
    model with the lower AIC is kept (compared with the trend when one is
    tried). The trended fit of that variance model, updated by the prior on the
    growth (:func:`shrink`), is what is written; the likelihood-ratio statistic
    against the flat fit, divided by the trend's design effect (at least 1), over
    :data:`TREND_LR` is the 5% test reported as ``trend``. Time is centred on the window during
    fitting (so the two coefficients are nearly uncorrelated) and moved back to
    the origin afterwards, carrying the covariance with it. Covariances are
    cluster-robust by child (module docstring).

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
    tried = data.month.size >= MIN_MONTHS_FOR_TREND and data.total >= MIN_STARTS_FOR_TREND
    centre = float(np.average(data.t, weights=data.exposure))
    x = data.t - centre
    rate0 = max(y.sum(), 0.5) / data.exposure.sum()
    flat = _fit_pair(y, log_e, np.zeros_like(x), 1, rate0)
    trended = _fit_pair(y, log_e, x, 2, rate0) if tried else None
    use_nb = _use_nb(*(trended if tried else flat))
    i = 1 if use_nb else 0
    robust_flat = _robust(flat[i], data, np.zeros_like(x), 1, use_nb)
    flat_model = _at_origin(flat[i].theta, robust_flat, 1, centre)
    lr = deff = trend_growth = trend_growth_se = math.nan
    trend, weight, trend_model, written = False, 0.0, None, flat_model
    if tried:
        full = trended[i]
        robust_full = _robust(full, data, x, 2, use_nb)
        lr = max(2.0 * (full.loglik - flat[i].loglik), 0.0)
        deff = float(robust_full[1, 1] / full.cov[1, 1]) if full.cov[1, 1] > 0 else math.nan
        trend = bool(full.converged and lr / max(deff, 1.0) > TREND_LR)
        trend_model = _at_origin(full.theta, robust_full, 2, centre)
        trend_growth, trend_growth_se = trend_model.growth, trend_model.growth_se
        if full.converged and np.all(np.isfinite(trend_model.cov)) and trend_model.cov[1, 1] > 0:
            written, weight = shrink(trend_model)
    chosen, robust = (full, robust_full) if trend else (flat[i], robust_flat)
    phi = math.exp(chosen.theta[-1]) if use_nb else 0.0
    phi_se = phi * math.sqrt(chosen.cov[-1, -1]) if use_nb else 0.0
    b = chosen.theta[1] if trend else 0.0
    mu = data.exposure * np.exp(chosen.theta[0] + b * x)
    poisson, nb = trended if tried else flat
    return ArrivalFit(
        data=data,
        trend=trend,
        model="negative binomial" if use_nb else "poisson",
        coef=written.coef,
        cov=written.cov,
        dispersion=phi,
        dispersion_se=phi_se,
        aic_poisson=poisson.aic,
        aic_nb=nb.aic if nb.converged else math.nan,
        pearson=_pearson(y, mu, phi, chosen.n_params),
        trend_tried=tried,
        trend_lr=lr,
        design_effect=deff,
        trend_growth=trend_growth,
        trend_growth_se=trend_growth_se,
        model_se_ratio=(
            math.sqrt(robust[0, 0] / chosen.cov[0, 0]) if chosen.cov[0, 0] > 0 else 1.0
        ),
        trend_weight=weight,
        flat=flat_model,
        trended=trend_model,
    )
