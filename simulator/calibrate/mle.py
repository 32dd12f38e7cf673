"""Maximum-likelihood helpers: optimise, observed information, delta method.

Every fitted figure in a calibrated config carries a standard error from the
inverse of the observed information (the Hessian of the negative
log-likelihood at its minimum), propagated to the reported quantity by the
delta method. These helpers keep that arithmetic in one place.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import optimize

# Relative step of the central differences (the parameters are on log or
# logit scales, so one step size suits them all).
_STEP = 1e-4
# Tight enough that the optimum is within about 1% of a standard error of the true one.
_LBFGS = {"ftol": 1e-11, "gtol": 1e-7}


@dataclass(frozen=True)
class Estimate:
    """A maximum-likelihood fit.

    Attributes
    ----------
    theta : numpy.ndarray
        The estimate, on the optimiser's (unconstrained) scale.
    cov : numpy.ndarray
        Its covariance, the inverse observed information; NaN when the
        information matrix is not positive definite.
    loglik : float
        Log-likelihood at the estimate.
    converged : bool
    """

    theta: np.ndarray
    cov: np.ndarray
    loglik: float
    converged: bool

    @property
    def n_params(self) -> int:
        """Number of free parameters (for AIC)."""
        return int(self.theta.size)

    @property
    def aic(self) -> float:
        """Akaike information criterion, 2k - 2 log L."""
        return 2.0 * self.n_params - 2.0 * self.loglik

    def se(self, f: Callable[[np.ndarray], float]) -> float:
        """Standard error of ``f(theta)`` by the delta method."""
        return delta_se(f, self.theta, self.cov)


def hessian(f: Callable[[np.ndarray], float], x: np.ndarray) -> np.ndarray:
    """Central-difference Hessian of a scalar function.

    Parameters
    ----------
    f : callable
        Scalar function of a vector.
    x : numpy.ndarray
        Point, shape ``(k,)``.

    Returns
    -------
    numpy.ndarray
        Shape ``(k, k)``, symmetric.
    """
    x = np.asarray(x, dtype=np.float64)
    k = x.size
    h = _STEP * np.maximum(1.0, np.abs(x))
    out = np.empty((k, k))
    f0 = f(x)
    for i in range(k):
        ei = np.zeros(k)
        ei[i] = h[i]
        out[i, i] = (f(x + ei) - 2.0 * f0 + f(x - ei)) / h[i] ** 2
        for j in range(i):
            ej = np.zeros(k)
            ej[j] = h[j]
            out[i, j] = out[j, i] = (
                f(x + ei + ej) - f(x + ei - ej) - f(x - ei + ej) + f(x - ei - ej)
            ) / (4.0 * h[i] * h[j])
    return out


def gradient(f: Callable[[np.ndarray], float], x: np.ndarray) -> np.ndarray:
    """Central-difference gradient of a scalar function, shape ``(k,)``."""
    x = np.asarray(x, dtype=np.float64)
    h = _STEP * np.maximum(1.0, np.abs(x))
    out = np.empty(x.size)
    for i in range(x.size):
        e = np.zeros(x.size)
        e[i] = h[i]
        out[i] = (f(x + e) - f(x - e)) / (2.0 * h[i])
    return out


def delta_se(f: Callable[[np.ndarray], float], theta: np.ndarray, cov: np.ndarray) -> float:
    """Standard error of ``f(theta)``: sqrt(g' cov g) with g the gradient of f."""
    g = gradient(f, theta)
    var = float(g @ cov @ g)
    return float(np.sqrt(var)) if var >= 0 else float("nan")


def invert_information(info: np.ndarray) -> np.ndarray:
    """Covariance from an observed information matrix (NaN when not positive definite)."""
    try:
        np.linalg.cholesky(info)
    except np.linalg.LinAlgError:
        return np.full(info.shape, np.nan)
    return np.linalg.inv(info)


def fit(
    nll: Callable[[np.ndarray], float],
    start: np.ndarray,
    jac: Callable[[np.ndarray], np.ndarray] | None = None,
) -> Estimate:
    """Minimise a negative log-likelihood and attach the inverse-Hessian covariance.

    L-BFGS-B from the start (its relative-reduction stopping rule suits
    finite-difference gradients); when that fails (a poor start, or a flat or
    infinite region), a Nelder-Mead search and then L-BFGS-B to polish, so the
    Hessian is always taken at a true minimum.

    Parameters
    ----------
    nll : callable
        Negative log-likelihood of the parameter vector; may return ``inf``.
    start : numpy.ndarray
        Starting point.
    jac : callable, optional
        Gradient of ``nll``; without it L-BFGS-B uses finite differences.

    Returns
    -------
    Estimate
    """
    start = np.asarray(start, dtype=np.float64)
    # Trial points outside a family's range give inf or nan: expected, not news.
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        best = optimize.minimize(nll, start, jac=jac, method="L-BFGS-B", options=_LBFGS)
        if not (best.success and np.isfinite(best.fun)):
            rough = optimize.minimize(
                nll,
                start,
                method="Nelder-Mead",
                options={"xatol": 1e-7, "fatol": 1e-9, "maxiter": 4000},
            )
            polished = optimize.minimize(nll, rough.x, jac=jac, method="L-BFGS-B", options=_LBFGS)
            best = polished if polished.fun <= rough.fun else rough
            best.success = bool(polished.success or rough.success)
        theta = np.asarray(best.x, dtype=np.float64)
        cov = invert_information(hessian(nll, theta))
    converged = bool(np.isfinite(best.fun) and best.success)
    return Estimate(theta, cov, -float(best.fun), converged)
