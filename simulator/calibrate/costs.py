"""Unit costs: a lognormal body, with a lognormal high-cost tail when the data show one.

The engine draws each placement's weekly cost from a lognormal with mean
``mean_gbp_per_week`` and coefficient of variation ``cv``, except that a share
``high_cost_share`` comes from a second lognormal (``high_cost_mean_gbp_per_week``,
``high_cost_cv``). On the log scale that is a two-component normal mixture, so
both a single normal and the two-component mixture are fitted to log costs by
maximum likelihood, and the mixture is kept when its AIC is lower *and* its
second component is a real upper tail (a minority share whose median lies
above the body's 84th percentile), not just a reshaping of the body.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import special

from .mle import Estimate, fit, hessian, invert_information

#: Fewer costs than this and no tail is looked for: in simulation, below about 300
#: costs the observed-information SEs of the tail's share and mean understate their
#: spread about twofold; from 300 on they are within 10-30% of it.
MIN_COSTS_FOR_TAIL = 300
#: Largest share of placements a "high-cost tail" may hold.
MAX_TAIL_SHARE = 0.3
# Log-scale sd floor: many councils pay identical rates (an allowance band),
# and a component collapsing on one value would have infinite likelihood.
_MIN_LOG_SD = 0.01


def _lognormal_mean_cv(mu: float, sigma: float) -> tuple[float, float]:
    return math.exp(mu + 0.5 * sigma**2), math.sqrt(math.expm1(sigma**2))


@dataclass(frozen=True)
class CostFit:
    """Fitted unit-cost distribution of one service.

    Attributes
    ----------
    n : int
        Costs used.
    single : Estimate
        One lognormal: theta = (mu, log sigma) of log cost.
    mixture : Estimate or None
        Body and tail: theta = (mu1, log sigma1, mu2, log sigma2, logit share).
    tail : bool
        Whether the mixture was kept.
    why_no_tail : str
        When ``tail`` is false and a mixture was tried, why it was not kept.
    """

    n: int
    single: Estimate
    mixture: Estimate | None
    tail: bool
    why_no_tail: str

    @property
    def chosen(self) -> Estimate:
        """The estimate used in the config."""
        return self.mixture if self.tail else self.single

    def _body(self, th: np.ndarray) -> tuple[float, float]:
        return _lognormal_mean_cv(th[0], max(math.exp(th[1]), _MIN_LOG_SD))

    def _tail(self, th: np.ndarray) -> tuple[float, float]:
        return _lognormal_mean_cv(th[2], max(math.exp(th[3]), _MIN_LOG_SD))

    @property
    def mean(self) -> float:
        """Mean weekly cost of the body, GBP per week."""
        return self._body(self.chosen.theta)[0]

    @property
    def mean_se(self) -> float:
        """Standard error of :attr:`mean`."""
        return self.mean * self.chosen.se(lambda th: math.log(self._body(th)[0]))

    @property
    def cv(self) -> float:
        """Coefficient of variation of the body."""
        return self._body(self.chosen.theta)[1]

    @property
    def share(self) -> float:
        """Share of placements in the high-cost tail (0 without one)."""
        return float(special.expit(self.mixture.theta[4])) if self.tail else 0.0

    @property
    def share_se(self) -> float:
        """Standard error of :attr:`share`."""
        return self.mixture.se(lambda th: float(special.expit(th[4]))) if self.tail else 0.0

    @property
    def tail_mean(self) -> float:
        """Mean weekly cost in the tail, GBP per week."""
        return self._tail(self.mixture.theta)[0] if self.tail else math.nan

    @property
    def tail_mean_se(self) -> float:
        """Standard error of :attr:`tail_mean`."""
        if not self.tail:
            return math.nan
        return self.tail_mean * self.mixture.se(lambda th: math.log(self._tail(th)[0]))

    @property
    def tail_cv(self) -> float:
        """Coefficient of variation in the tail."""
        return self._tail(self.mixture.theta)[1] if self.tail else math.nan

    @property
    def overall_mean(self) -> float:
        """Mean weekly cost over body and tail, GBP per week."""
        return (1 - self.share) * self.mean + self.share * (self.tail_mean if self.tail else 0.0)

    def density(self, cost: np.ndarray) -> np.ndarray:
        """Fitted density of weekly cost (per GBP per week), for plots."""
        x = np.log(np.asarray(cost, dtype=np.float64))
        th = self.chosen.theta

        def normal(mu, log_sd):
            sd = max(math.exp(log_sd), _MIN_LOG_SD)
            return np.exp(-0.5 * ((x - mu) / sd) ** 2) / (sd * math.sqrt(2 * math.pi))

        w = self.share
        dens = (1 - w) * normal(th[0], th[1]) + (w * normal(th[2], th[3]) if self.tail else 0.0)
        return dens / np.asarray(cost, dtype=np.float64)


def _single(x: np.ndarray) -> Estimate:
    """Normal fit to log costs, in closed form with its exact information."""
    mu = float(np.mean(x))
    sd = max(float(np.std(x)), _MIN_LOG_SD)
    theta = np.array([mu, math.log(sd)])

    def nll(th):
        s = max(math.exp(th[1]), _MIN_LOG_SD)
        return float(
            np.sum(0.5 * ((x - th[0]) / s) ** 2 + math.log(s))
            + 0.5 * x.size * math.log(2 * math.pi)
        )

    # n / sd^2 for mu and 2n for log sd: the normal's information, exact.
    cov = invert_information(np.diag([x.size / sd**2, 2.0 * x.size]))
    return Estimate(theta, cov, -nll(theta), True)


def _mixture_nll(th: np.ndarray, x: np.ndarray) -> float:
    s1 = max(math.exp(th[1]), _MIN_LOG_SD)
    s2 = max(math.exp(th[3]), _MIN_LOG_SD)
    w = special.expit(th[4])
    l1 = math.log1p(-w) - 0.5 * ((x - th[0]) / s1) ** 2 - math.log(s1)
    l2 = math.log(w) - 0.5 * ((x - th[2]) / s2) ** 2 - math.log(s2) if w > 0 else -np.inf
    return -float(np.sum(np.logaddexp(l1, l2))) + 0.5 * x.size * math.log(2 * math.pi)


def _em(x: np.ndarray, split: float, iterations: int = 300) -> np.ndarray:
    """Expectation-maximisation for two normals, started by splitting at a quantile."""
    hi = x > np.quantile(x, split)
    if hi.all() or not hi.any():
        return np.array([np.nan] * 5)
    mu = np.array([x[~hi].mean(), x[hi].mean()])
    sd = np.maximum([x[~hi].std(), x[hi].std()], _MIN_LOG_SD)
    w = hi.mean()
    for _ in range(iterations):
        l1 = np.log1p(-w) - 0.5 * ((x - mu[0]) / sd[0]) ** 2 - np.log(sd[0])
        l2 = np.log(w) - 0.5 * ((x - mu[1]) / sd[1]) ** 2 - np.log(sd[1])
        r = special.expit(l2 - l1)  # responsibility of the second component
        w = float(np.clip(r.mean(), 1e-6, 1 - 1e-6))
        for j, resp in enumerate((1 - r, r)):
            total = resp.sum()
            mu[j] = (resp @ x) / total
            sd[j] = max(math.sqrt((resp @ (x - mu[j]) ** 2) / total), _MIN_LOG_SD)
    return np.array([mu[0], math.log(sd[0]), mu[1], math.log(sd[1]), special.logit(w)])


def _is_tail(theta: np.ndarray) -> bool:
    """Whether a mixture's second component is a minority above the body's 84th percentile."""
    share = float(special.expit(theta[4]))
    return share <= MAX_TAIL_SHARE and theta[2] - theta[0] > math.exp(theta[1])


def _mixture(x: np.ndarray) -> Estimate | None:
    """The best body-and-tail mixture, from EM started at several splits.

    Two normals can also describe a skewed body (a narrow peak and a wide
    half holding 40% of placements); that is a different local optimum, not a
    high-cost tail, so the best start whose solution *is* a tail is kept.
    """
    best = None
    for split in (0.5, 0.8, 0.9, 0.95):
        theta = _em(x, split)
        if not np.all(np.isfinite(theta)):
            continue
        if theta[2] < theta[0]:  # keep the higher component second
            theta = np.array([theta[2], theta[3], theta[0], theta[1], -theta[4]])
        value = _mixture_nll(theta, x)
        if _is_tail(theta) and (best is None or value < best[1]):
            best = (theta, value)
    if best is None:
        return None
    est = fit(lambda th: _mixture_nll(th, x), best[0])
    polished = est.converged and _is_tail(est.theta) and -est.loglik <= best[1]
    theta = est.theta if polished else best[0]
    cov = invert_information(hessian(lambda th: _mixture_nll(th, x), theta))
    return Estimate(theta, cov, -_mixture_nll(theta, x), True)


def _tail_problem(mix: Estimate, single: Estimate) -> str:
    """Why a fitted mixture is not a body plus a high-cost tail ('' when it is)."""
    mu1, s1, mu2 = mix.theta[0], math.exp(mix.theta[1]), mix.theta[2]
    share = float(special.expit(mix.theta[4]))
    if mix.aic >= single.aic:
        return f"one lognormal fits as well (AIC {single.aic:.1f} vs {mix.aic:.1f} with a tail)"
    if share > MAX_TAIL_SHARE:
        return f"the second component holds {share:.0%} of placements: a second body, not a tail"
    if mu2 - mu1 < s1:
        return "the second component is not above the body's 84th percentile"
    if not np.all(np.isfinite(mix.cov)):
        return "the tail's parameters are not well determined"
    return ""


def fit_costs(costs: np.ndarray) -> CostFit | None:
    """Fit weekly costs (GBP per week, all > 0).

    Parameters
    ----------
    costs : numpy.ndarray

    Returns
    -------
    CostFit or None
        ``None`` when there are fewer than two costs.
    """
    costs = np.asarray(costs, dtype=np.float64)
    if costs.size < 2:
        return None
    x = np.log(costs)
    single = _single(x)
    if costs.size < MIN_COSTS_FOR_TAIL:
        why = f"fewer than {MIN_COSTS_FOR_TAIL} costs: no tail looked for"
        return CostFit(costs.size, single, None, False, why)
    mixture = _mixture(x)
    if mixture is None:
        why = "no mixture start converged to a minority component above the body"
        return CostFit(costs.size, single, None, False, why)
    why = _tail_problem(mixture, single)
    return CostFit(costs.size, single, mixture, not why, why)
