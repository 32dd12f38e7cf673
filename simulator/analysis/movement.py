"""Movement since the last forecast: what changed between two runs of the same council.

For each result row and financial year both runs share: the chance of
overspend, the median and the 90th percentile of the overspend, before and
after. The change in the total's *mean* overspend splits exactly into the
changes of its budget lines (the mean of a sum is the sum of the means), which
is what the waterfall chart shows and the sentence names ("mainly children's
homes"); medians and percentiles do not add up, so they are shown but not split.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import xarray as xr

from simulator.errors import UserError


@dataclass(frozen=True)
class RowMovement:
    """One result row in one year, before and after (money in GBP, chances as fractions)."""

    service: str
    label: str
    service_type: str
    financial_year: str
    p_before: float
    p_after: float
    median_before: float
    median_after: float
    p90_before: float
    p90_after: float
    mean_before: float
    mean_after: float

    @property
    def mean_change(self) -> float:
        """Change in the mean overspend, GBP."""
        return self.mean_after - self.mean_before


@dataclass(frozen=True)
class Movement:
    """The movement between two runs: every shared row and year, and when each run was made."""

    before_created: str
    after_created: str
    rows: list[RowMovement]
    causes: CauseSplit | None = None  # see :func:`cause_split`

    def of(self, service: str, year: str) -> RowMovement:
        """The movement of one row and year."""
        for r in self.rows:
            if r.service == service and r.financial_year == year:
                return r
        raise KeyError((service, year))

    def lines(self, year: str) -> list[RowMovement]:
        """The budget lines of ``year``, largest change in mean overspend (either way) first."""
        found = [
            r
            for r in self.rows
            if r.financial_year == year and r.service_type not in ("department", "total")
        ]
        return sorted(found, key=lambda r: -abs(r.mean_change))


def _stats(over: np.ndarray) -> tuple[float, float, float, float]:
    p = float(np.mean(over > 0))
    median, p90 = (float(v) for v in np.quantile(over, [0.5, 0.9]))
    return p, median, p90, float(over.mean())


def movement(before: xr.Dataset, after: xr.Dataset) -> Movement:
    """Compare two runs of the same council.

    Parameters
    ----------
    before, after : xarray.Dataset
        The previous and the new results (``overspend`` by draw, service and year).

    Raises
    ------
    UserError
        When the runs are of different councils or share no row and year.
    """
    council = (str(before.attrs.get("council", "")), str(after.attrs.get("council", "")))
    if council[0] != council[1]:
        raise UserError(
            f"--since: the previous results are of {council[0]!r}, these of {council[1]!r}: "
            "compare two runs of the same council"
        )
    keys = [str(k) for k in after["service"].values if k in set(before["service"].values)]
    years = [
        str(y) for y in after["financial_year"].values if y in set(before["financial_year"].values)
    ]
    if not keys or not years:
        raise UserError(
            "--since: the two runs share no service and financial year: nothing to compare"
        )
    rows = []
    for key in keys:
        g = int(np.flatnonzero(after["service"].values == key)[0])
        old = before["overspend"].sel(service=key)
        new = after["overspend"].sel(service=key)
        for year in years:
            b = _stats(old.sel(financial_year=year).values)
            a = _stats(new.sel(financial_year=year).values)
            rows.append(RowMovement(
                key, str(after["service_label"].values[g]), str(after["service_type"].values[g]),
                year, b[0], a[0], b[1], a[1], b[2], a[2], b[3], a[3],
            ))  # fmt: skip
    return Movement(str(before.attrs.get("created", "")), str(after.attrs.get("created", "")), rows)


#: The steps of :func:`cause_split`, in order: what each swaps in from the new config.
CAUSES = (
    ("New actuals", ("actuals",)),
    ("New caseload", ("snapshot", "caseload")),
    ("Changed assumptions", ()),  # everything else: the new config itself
)


@dataclass(frozen=True)
class CauseSplit:
    """The total's change in one year split by cause, on common random numbers.

    ``steps`` are (label, chance of overspend, mean overspend in GBP): the last
    forecast's config, then with the new actuals, then also the new caseload,
    then the new config; every step is simulated with the new run's seed and
    draws, so the differences between steps are due to what changed alone.
    ``sampling`` is the last forecast as run minus as re-run here (zero when
    both runs used the same seed and draws).
    """

    financial_year: str
    steps: list[tuple[str, float, float]]
    sampling: float


def _hybrid(before: dict, after: dict, parts: tuple[str, ...]) -> dict:
    """``before`` with the given parts of ``after`` swapped in (and dropped where it has none)."""
    out = {k: v for k, v in before.items()}
    for part in parts:
        if part == "caseload":  # each service's opening caseload
            services = {k: dict(v) for k, v in out.get("services", {}).items()}
            for key, svc in services.items():
                new = after.get("services", {}).get(key, {})
                if "caseload" in new:
                    svc["caseload"] = new["caseload"]
                else:
                    svc.pop("caseload", None)
            out["services"] = services
        elif part in after:
            out[part] = after[part]
        else:
            out.pop(part, None)
    return out


def cause_split(
    before: xr.Dataset, after: xr.Dataset, threads: int | None = None
) -> CauseSplit | None:
    """Split the total's change in the first shared year into new actuals, caseload and assumptions.

    Re-simulates the last forecast's config, and it with the new actuals and then
    the new caseload swapped in, with the new run's seed and draws. ``None`` when
    the two configs do not allow it: a results file without its config, other
    services or horizon, or a mixed config that does not validate (for example
    a snapshot dated before new actuals).
    """
    import tomllib

    import simulator
    from simulator.config.load import config_from_dict

    texts = [str(ds.attrs.get("config", "")) for ds in (before, after)]
    try:
        old, new = (tomllib.loads(t) for t in texts)
    except tomllib.TOMLDecodeError:
        return None
    if not texts[0] or set(old.get("services", {})) != set(new.get("services", {})):
        return None
    if old.get("horizon") != new.get("horizon"):
        return None
    year = str(after["financial_year"].values[0])
    seed, draws = int(after.attrs["seed"]), int(after.sizes["draw"])

    def total(ds: xr.Dataset) -> tuple[float, float]:
        over = ds["overspend"].sel(service="total", financial_year=year).values
        return float(np.mean(over > 0)), float(np.mean(over))

    steps = []
    swapped: tuple[str, ...] = ()
    try:
        for label, parts in (("Last forecast", ()), *CAUSES[:-1]):
            swapped += parts
            config = config_from_dict(_hybrid(old, new, swapped), "the last forecast's config")
            steps.append((label, *total(simulator.run(config, draws, seed, threads))))
    except (UserError, ValueError):
        return None
    steps.append((CAUSES[-1][0], *total(after)))
    return CauseSplit(year, steps, total(before)[1] - steps[0][2])
