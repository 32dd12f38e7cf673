"""Parameter distributions: how a config writes an uncertain number.

Any uncertain number in a config (a growth rate, an inflation uplift, a median
length, a savings delivery fraction) is either a plain number or a table such
as ``{ dist = "normal", mean = 0.03, sd = 0.01 }``. Each is drawn by the inverse
of its cumulative distribution function from one uniform number per draw, so a
sensitivity design can supply its own uniforms (Sobol or Latin hypercube
points) and get exactly the same model.

Everything here is plain numpy/scipy: these draws happen once per Monte Carlo
draw, not once per placement, so they are not in the numba kernels.
"""

from __future__ import annotations

import abc
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from simulator.config.messages import looks_like_number, show, type_hint


def _special():
    """``scipy.special``, imported on first use.

    Importing it costs 0.2-0.6 s (most of it scipy's array-API layer), which
    importing the config layer no longer pays: only the first inverse CDF of
    an uncertain number does (loading a config that has one checks its
    quantiles). The functions are the same, so the values are too.
    """
    from scipy import special

    return special


# Uniforms are kept strictly inside (0, 1) so that unbounded inverse CDFs stay finite.
_U_EPS = 1e-12
# An unbounded tail is accepted on a bounded field when the field's bound is
# beyond this quantile (the draws past it, rarer than 1 in a billion, are clipped).
_TAIL = 1e-9


@dataclass(frozen=True)
class Support:
    """The values a config field allows, with its units for messages.

    Attributes
    ----------
    low, high : float
        Bounds; ``-inf``/``inf`` for none.
    low_open, high_open : bool
        Whether each bound itself is excluded.
    units : str
        Units shown in messages, e.g. ``"weeks"`` or ``"fraction per year"``.
    """

    low: float
    high: float
    low_open: bool
    high_open: bool
    units: str

    def contains(self, x: float) -> bool:
        """Whether ``x`` is an allowed value."""
        if not math.isfinite(x):
            return False
        above = x > self.low if self.low_open else x >= self.low
        below = x < self.high if self.high_open else x <= self.high
        return above and below

    def describe(self) -> str:
        """Say in words what is allowed, e.g. ``'> 0 (weeks)'``."""
        parts = []
        if math.isfinite(self.low):
            parts.append(f"{'>' if self.low_open else '>='} {self.low:g}")
        if math.isfinite(self.high):
            parts.append(f"{'<' if self.high_open else '<='} {self.high:g}")
        text = " and ".join(parts) if parts else "any finite number"
        return f"{text} ({self.units})"


def support(units: str, low=-math.inf, high=math.inf, low_open=False, high_open=False) -> Support:
    """Shorthand for a :class:`Support`."""
    return Support(float(low), float(high), low_open, high_open, units)


def _uniforms(u: np.ndarray) -> np.ndarray:
    return np.clip(np.asarray(u, dtype=np.float64), _U_EPS, 1.0 - _U_EPS)


class Param(abc.ABC):
    """Base class of a parameter: a fixed number or a distribution over numbers."""

    dist = "fixed"

    @abc.abstractmethod
    def ppf(self, u: np.ndarray) -> np.ndarray:
        """Values at cumulative probabilities ``u`` (the inverse CDF)."""

    @property
    def is_uncertain(self) -> bool:
        """True when the parameter varies between draws."""
        return True

    def median(self) -> float:
        """The 50th percentile."""
        return float(self.ppf(np.array([0.5]))[0])

    def to_toml(self) -> Any:
        """The value as written in a resolved config (number or inline table)."""
        return {"dist": self.dist, **{k: v for k, v in vars(self).items() if v is not None}}

    def describe(self, fmt=lambda x: f"{x:g}") -> str:
        """A short plain-English description using ``fmt`` for values."""
        lo, hi = self.ppf(np.array([0.1, 0.9]))
        return f"{fmt(self.median())} (80% between {fmt(lo)} and {fmt(hi)}, {self.dist})"


@dataclass(frozen=True)
class Fixed(Param):
    """A number known exactly."""

    value: float
    dist = "fixed"

    def ppf(self, u):
        return np.full(np.shape(u), self.value, dtype=np.float64)

    @property
    def is_uncertain(self) -> bool:
        return False

    def to_toml(self):
        return self.value

    def describe(self, fmt=lambda x: f"{x:g}") -> str:
        return fmt(self.value)


@dataclass(frozen=True)
class Normal(Param):
    """Normal with ``mean`` and ``sd``, optionally truncated to ``[low, high]``."""

    mean: float
    sd: float
    low: float | None = None
    high: float | None = None
    dist = "normal"

    def ppf(self, u):
        u = _uniforms(u)
        if self.sd == 0.0:
            return np.full(u.shape, self.mean)
        lo = -np.inf if self.low is None else (self.low - self.mean) / self.sd
        hi = np.inf if self.high is None else (self.high - self.mean) / self.sd
        special = _special()
        if lo > 0:
            # A range far above the mean: work in the upper tail, where the
            # probabilities are not rounded to 1 (by symmetry of the normal).
            a, b = special.ndtr(-hi), special.ndtr(-lo)
            return self.mean - self.sd * special.ndtri(a + (1.0 - u) * (b - a))
        a, b = special.ndtr(lo), special.ndtr(hi)
        return self.mean + self.sd * special.ndtri(a + u * (b - a))


@dataclass(frozen=True)
class LogNormal(Param):
    """Lognormal with natural-scale ``mean`` and ``sd``."""

    mean: float
    sd: float
    dist = "lognormal"

    def ppf(self, u):
        sigma2 = math.log1p((self.sd / self.mean) ** 2)
        mu = math.log(self.mean) - 0.5 * sigma2
        return np.exp(mu + math.sqrt(sigma2) * _special().ndtri(_uniforms(u)))


@dataclass(frozen=True)
class Gamma(Param):
    """Gamma with ``mean`` and ``sd``."""

    mean: float
    sd: float
    dist = "gamma"

    def ppf(self, u):
        if self.sd == 0.0:
            return np.full(np.shape(u), self.mean)
        shape = (self.mean / self.sd) ** 2
        return (self.sd**2 / self.mean) * _special().gammaincinv(shape, _uniforms(u))


@dataclass(frozen=True)
class Beta(Param):
    """Beta on [0, 1] with ``mean`` and ``sd`` (for fractions such as savings delivery)."""

    mean: float
    sd: float
    dist = "beta"

    def ppf(self, u):
        if self.sd == 0.0:
            return np.full(np.shape(u), self.mean)
        nu = self.mean * (1.0 - self.mean) / self.sd**2 - 1.0
        return _special().betaincinv(self.mean * nu, (1.0 - self.mean) * nu, _uniforms(u))


@dataclass(frozen=True)
class Uniform(Param):
    """Uniform between ``low`` and ``high``."""

    low: float
    high: float
    dist = "uniform"

    def ppf(self, u):
        return self.low + _uniforms(u) * (self.high - self.low)


@dataclass(frozen=True)
class Triangular(Param):
    """Triangular with ``low``, ``mode`` and ``high``."""

    low: float
    mode: float
    high: float
    dist = "triangular"

    def ppf(self, u):
        u = _uniforms(u)
        width = self.high - self.low
        c = (self.mode - self.low) / width
        left = self.low + np.sqrt(u * width * (self.mode - self.low))
        right = self.high - np.sqrt((1.0 - u) * width * (self.high - self.mode))
        return np.where(u < c, left, right)


@dataclass(frozen=True)
class Pert(Param):
    """PERT (a scaled beta) with ``low``, ``mode`` and ``high``, as in @RISK."""

    low: float
    mode: float
    high: float
    dist = "pert"

    def ppf(self, u):
        width = self.high - self.low
        a = 1.0 + 4.0 * (self.mode - self.low) / width
        b = 1.0 + 4.0 * (self.high - self.mode) / width
        return self.low + width * _special().betaincinv(a, b, _uniforms(u))


_FAMILIES: dict[str, tuple[type[Param], tuple[str, ...], tuple[str, ...]]] = {
    # name: (class, required keys, optional keys)
    "normal": (Normal, ("mean", "sd"), ("low", "high")),
    "lognormal": (LogNormal, ("mean", "sd"), ()),
    "gamma": (Gamma, ("mean", "sd"), ()),
    "beta": (Beta, ("mean", "sd"), ()),
    "uniform": (Uniform, ("low", "high"), ()),
    "triangular": (Triangular, ("low", "mode", "high"), ()),
    "pert": (Pert, ("low", "mode", "high"), ()),
}

EXAMPLE = '{ dist = "normal", mean = 0.03, sd = 0.01 }'


def _number(key: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        hint = type_hint(value) if isinstance(value, bool) or looks_like_number(value) else None
        raise ValueError(f"'{key}' = {show(value)} " + (hint or "must be a number"))
    if not math.isfinite(value):
        raise ValueError(f"'{key}' = {value!r} must be a finite number")
    return float(value)


def _check_family(dist: str, v: dict[str, float]) -> None:
    """Check the family's own constraints (independent of the field)."""
    if "sd" in v and v["sd"] < 0:
        raise ValueError(f"sd = {v['sd']:g} must be >= 0")
    if dist in ("lognormal", "gamma") and v["mean"] <= 0:
        raise ValueError(f"a {dist} needs mean > 0, got {v['mean']:g}")
    if dist == "beta":
        if not 0 < v["mean"] < 1:
            raise ValueError(f"a beta needs 0 < mean < 1, got {v['mean']:g}")
        limit = math.sqrt(v["mean"] * (1 - v["mean"]))
        if v["sd"] >= limit:
            raise ValueError(
                f"a beta with mean {v['mean']:g} needs sd < {limit:.4g}, got {v['sd']:g}"
            )
    if dist in ("uniform", "triangular", "pert") and not v["low"] < v["high"]:
        raise ValueError(f"needs low < high, got low = {v['low']:g}, high = {v['high']:g}")
    if dist in ("triangular", "pert") and not v["low"] <= v["mode"] <= v["high"]:
        raise ValueError(f"needs low <= mode <= high, got mode = {v['mode']:g}")
    if dist == "normal" and v.get("low") is not None and v.get("high") is not None:
        if not v["low"] < v["high"]:
            raise ValueError(f"needs low < high, got low = {v['low']:g}, high = {v['high']:g}")


def _ends(param: Param) -> tuple[float, float, bool]:
    """The distribution's lowest and highest values, and whether they are never taken.

    Infinite ends are unbounded tails.
    """
    if isinstance(param, Normal):
        low = -math.inf if param.low is None else param.low
        high = math.inf if param.high is None else param.high
        return low, high, False
    if isinstance(param, LogNormal | Gamma):
        return 0.0, math.inf, True
    if isinstance(param, Beta):
        return 0.0, 1.0, True
    return float(param.low), float(param.high), False


def _check_range(param: Param, field: Support) -> None:
    """Check that every value the distribution can take is allowed by the field.

    An unbounded tail is accepted on a bounded field when the one-in-a-billion
    quantile is inside it; the rare draws beyond are clipped (see :func:`clip_to`).
    """
    if getattr(param, "sd", None) == 0.0:
        if not field.contains(param.mean):
            raise ValueError(
                f"its value {param.mean:g} is outside what is allowed: {field.describe()}"
            )
        return
    low, high, open_ends = _ends(param)
    for end, tail_u, side in ((low, _TAIL, "below"), (high, 1 - _TAIL, "above")):
        if math.isinf(end):
            far = float(param.ppf(np.array([tail_u]))[0])
            if not field.contains(far):
                bound = field.low if side == "below" else field.high
                raise ValueError(
                    f"a {param.dist} like this can go {side} {bound:g} with probability over "
                    f"1 in a billion: narrow it, or for a normal add "
                    f"{'low' if side == 'below' else 'high'} = ... (truncation); "
                    f"allowed: {field.describe()}"
                )
            continue
        inside = field.contains(end)
        if not inside and open_ends:
            # An end the family never takes may equal an open bound of the field.
            inside = (end == field.low and side == "below") or (
                end == field.high and side == "above"
            )
        if not inside:
            raise ValueError(
                f"it can take the value {end:g}, outside what is allowed: {field.describe()}"
            )


def parse_param(raw: Any, field: Support) -> Param:
    """Turn a config value into a :class:`Param`, or raise ``ValueError`` saying why not.

    Parameters
    ----------
    raw : Any
        A number, or a table with a ``dist`` key.
    field : Support
        What the field allows, used to check every value the distribution can take.

    Returns
    -------
    Param
    """
    if isinstance(raw, Param):
        return raw
    if isinstance(raw, bool) or not isinstance(raw, int | float | dict):
        if looks_like_number(raw):
            raise ValueError(type_hint(raw))
        what = f"not {show(raw)}" if isinstance(raw, bool) else f"got {show(raw)}"
        raise ValueError(f"must be a number or a distribution table such as {EXAMPLE}, {what}")
    if not isinstance(raw, dict):
        value = float(raw)
        if not field.contains(value):
            raise ValueError(f"must be {field.describe()}")
        return Fixed(value)
    dist = raw.get("dist")
    if not isinstance(dist, str) or dist not in _FAMILIES:
        raise ValueError(
            f"dist = {show(dist)} is not a known distribution: use one of "
            f"{', '.join(repr(k) for k in _FAMILIES)}"
        )
    cls, required, optional = _FAMILIES[dist]
    allowed = {"dist", *required, *optional}
    unknown = sorted(set(raw) - allowed)
    if unknown:
        raise ValueError(
            f"unknown key {show(unknown[0])} for a {dist}: allowed keys are {', '.join(sorted(allowed))}"
        )
    missing = [k for k in required if k not in raw]
    if missing:
        raise ValueError(f"a {dist} needs {', '.join(required)}: {missing[0]!r} is missing")
    values = {k: _number(k, raw[k]) for k in (*required, *optional) if k in raw}
    _check_family(dist, values)
    param = cls(**values)
    try:
        with np.errstate(all="ignore"):
            _check_range(param, field)
            ends = param.ppf(np.array([_TAIL, 0.5, 1 - _TAIL]))
    except (OverflowError, ZeroDivisionError, FloatingPointError):
        ends = np.array([np.nan])
    if not np.all(np.isfinite(ends)):
        raise ValueError(f"a {dist} with these values cannot be computed: use less extreme values")
    return param


def clip_to(field: Support, values: np.ndarray) -> np.ndarray:
    """Clip draws into the field's support (only far-tail normal draws are ever moved)."""
    lo = field.low if not field.low_open else np.nextafter(field.low, np.inf)
    hi = field.high if not field.high_open else np.nextafter(field.high, -np.inf)
    return np.clip(values, lo, hi)
