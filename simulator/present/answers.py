"""The questions cabinet asks, answered in words: reserve, savings, scenarios.

Each function takes the numbers (a reserve Dataset from
:func:`simulator.results.reserve.reserve_dataset`, a ``scenarios.nc``
Dataset) and returns sentences or plain rows. The rows are lists of
dictionaries with money in GBP and chances as fractions, so the report, the
console and a workbook sheet can all show the same table; the sentences use the
one number formatter (:mod:`simulator.present.numbers`), so every figure in
them equals the table's to the rounding shown.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from simulator.present.numbers import (
    MINUS,
    count,
    fixed,
    money_k_or_m,
    money_m,
    pct_text,
    round_half_away,
)
from simulator.results.reserve import futures_out_of

# ------------------------------------------------------------------ reserve and savings


def _at(reserve: xr.Dataset, name: str, service: str, year: str, **more) -> float:
    return float(reserve[name].sel(service=service, financial_year=year, **more).values)


def subject_of(reserve: xr.Dataset, service: str) -> str:
    """Who overspends, in words: "all services together" for the total, else the row's label."""
    if service == "total":
        return "all services together"
    if "service_label" in reserve.coords:
        keys = [str(k) for k in reserve["service"].values]
        return str(reserve["service_label"].values[keys.index(service)])
    return service


def reserve_sentence(
    reserve: xr.Dataset, service: str, year: str, level: float = 0.9, minus: str = MINUS
) -> str:
    """The contingency answer, e.g. "A reserve of £7.9m covers the overspend of ... in
    2024/25 in 9 futures out of 10 (s.e. £0.1m)."

    Parameters
    ----------
    reserve : xarray.Dataset
        From :func:`simulator.results.reserve.reserve_dataset`.
    service, year : str
        The result row and financial year.
    level : float
        Confidence level, one of the Dataset's ``confidence`` values.
    minus : str
        Minus sign (the console uses ``-``).
    """
    amount = _at(reserve, "reserve", service, year, confidence=level)
    se = _at(reserve, "reserve_se", service, year, confidence=level)
    who = subject_of(reserve, service)
    futures = futures_out_of(level)
    if amount <= 0:
        return f"No reserve is needed for the overspend of {who} in {year} in {futures}."
    return (
        f"A reserve of {money_m(amount, 1, minus)} covers the overspend of {who} in {year} "
        f"in {futures} (s.e. {money_k_or_m(se)})."
    )


def savings_sentence(reserve: xr.Dataset, service: str, year: str) -> str:
    """The savings answer for evens (and the user's target chance when the Dataset has one)."""
    p = _at(reserve, "p_overspend", service, year)
    who = subject_of(reserve, service)
    evens = _at(reserve, "savings_to_evens", service, year)
    if evens <= 0:
        text = (
            f"The chance that {who} overspend{'' if service == 'total' else 's'} in {year} "
            f"is already {pct_text(p)}, no more than evens: no extra savings are needed for that."
        )
    else:
        text = (
            f"Extra savings of {money_m(evens)} in {year}, delivered in full, would bring the "
            f"chance of overspend of {who} from {pct_text(p)} to evens (50%)."
        )
    if "savings_to_target" in reserve:
        target = float(reserve.attrs["target_chance"])
        amount = _at(reserve, "savings_to_target", service, year)
        text += (
            f" To bring it to {pct_text(target)} would take {money_m(amount)}."
            if amount > 0
            else f" It is already no more than the target of {pct_text(target)}."
        )
    return text


def shortfall_sentence(reserve: xr.Dataset, service: str, year: str) -> str:
    """The expected shortfall in words: the mean overspend in the worst 1 in 20 futures."""
    es = _at(reserve, "expected_shortfall", service, year)
    who = subject_of(reserve, service)
    if es <= 0:
        return f"Even in the worst 1 in 20 futures, {who} underspend on average in {year}."
    return (
        f"In the worst 1 in 20 futures the overspend of {who} in {year} averages "
        f"{money_m(es)} (the expected shortfall)."
    )


#: Columns of :func:`reserve_table_rows`: header and field of :func:`reserve_rows`.
RESERVE_COLUMNS = (
    ("Chance of overspend", "p_overspend"),
    ("Reserve for 8 in 10", "reserve_80_gbp"),
    ("Reserve for 9 in 10", "reserve_90_gbp"),
    ("s.e.", "reserve_90_se_gbp"),
    ("Reserve for 19 in 20", "reserve_95_gbp"),
    ("Worst 1 in 20: mean overspend", "expected_shortfall_gbp"),
    ("Extra savings for evens", "savings_to_evens_gbp"),
    ("s.e.", "savings_to_evens_se_gbp"),
)


def reserve_table_rows(rows: list[dict], decimals: int = 1) -> list[list[str]]:
    """Rows of :func:`simulator.results.reserve.reserve_rows` as text cells (label first), £m."""
    out = []
    for r in rows:
        cells = [str(r["service_label"])]
        for _, field in RESERVE_COLUMNS:
            v = float(r[field])
            if field == "p_overspend":
                cells.append(pct_text(v))
            else:  # standard errors to two decimals: still £m, one unit per table
                cells.append(money_m(v, decimals + 1 if "_se_" in field else decimals))
        out.append(cells)
    return out


# ------------------------------------------------------------------ scenarios


def scenario_label(scen: xr.Dataset, i: int) -> str:
    """Scenario ``i`` as a person reads it: its description, or its name made readable."""
    if "scenario_description" in scen.coords:
        text = str(scen["scenario_description"].values[i]).strip()
        if i == 0 and text in ("", "the config as written"):
            return "Base case (the config as written)"
        if text:
            return text
    name = str(scen["scenario"].values[i])
    return "Base case" if i == 0 else name.replace("_", " ").capitalize()


def scenario_stats(scen: xr.Dataset, service: str = "total") -> dict[str, np.ndarray]:
    """A scenario file's numbers for one row, each of shape (scenario, financial_year).

    ``p_overspend``, ``mean_overspend`` and the changes from the base with their
    standard errors (``*_diff``, ``*_diff_se``): read from the file, or from its
    per-draw overspend as paired differences when it holds only those.
    """
    row = scen.sel(service=service)
    names = ("p_overspend", "mean_overspend", "p_overspend_diff", "p_overspend_diff_se",
             "mean_overspend_diff", "mean_overspend_diff_se")  # fmt: skip
    dims = ("scenario", "financial_year")
    if all(n in row for n in names):
        return {n: np.asarray(row[n].transpose(*dims).values, float) for n in names}
    over = np.asarray(row["overspend"].transpose("draw", *dims).values, float)
    n = over.shape[0]
    hit = (over > 0).astype(float)
    d_mean, d_hit = over - over[:, :1], hit - hit[:, :1]
    return {
        "p_overspend": hit.mean(axis=0),
        "mean_overspend": over.mean(axis=0),
        "p_overspend_diff": d_hit.mean(axis=0),
        "p_overspend_diff_se": d_hit.std(axis=0, ddof=1) / np.sqrt(n),
        "mean_overspend_diff": d_mean.mean(axis=0),
        "mean_overspend_diff_se": d_mean.std(axis=0, ddof=1) / np.sqrt(n),
    }


def scenario_rows(scen: xr.Dataset, service: str = "total") -> list[dict[str, object]]:
    """Each scenario and year against the base, as plain rows (GBP, fractions).

    Keys: ``scenario`` (name), ``description`` (its words), ``financial_year``,
    ``p_overspend``, ``p_overspend_change``, ``p_overspend_change_se``,
    ``mean_overspend_gbp``, ``mean_overspend_change_gbp``,
    ``mean_overspend_change_se_gbp`` (changes are NaN for the base).
    """
    v = scenario_stats(scen, service)
    rows = []
    for s, name in enumerate(scen["scenario"].values):
        for y, year in enumerate(scen["financial_year"].values):

            def change(k: str, s=s, y=y) -> float:
                return float(v[k][s, y]) if s > 0 else np.nan  # the base is the reference

            rows.append({
                "scenario": str(name),
                "description": scenario_label(scen, s),
                "financial_year": str(year),
                "p_overspend": float(v["p_overspend"][s, y]),
                "p_overspend_change": change("p_overspend_diff"),
                "p_overspend_change_se": change("p_overspend_diff_se"),
                "mean_overspend_gbp": float(v["mean_overspend"][s, y]),
                "mean_overspend_change_gbp": change("mean_overspend_diff"),
                "mean_overspend_change_se_gbp": change("mean_overspend_diff_se"),
            })  # fmt: skip
    return rows


def _direction(before: float, after: float) -> str:
    shown = (pct_text(before), pct_text(after))
    if shown[0] == shown[1]:
        return f"stays at {shown[0]}"
    return f"{'rises' if after > before else 'falls'} from {shown[0]} to {shown[1]}"


def scenario_sentence(scen: xr.Dataset, i: int, year: str, service: str = "total") -> str:
    """What scenario ``i`` does to the chance of overspend in ``year``, e.g.

    "In the scenario “None of the savings programmes delivers anything”, the
    chance of overspend of all services together in 2024/25 rises from 81% to
    94% (+£2.7m expected overspend)."
    """
    v = scenario_stats(scen, service)
    y = [str(x) for x in scen["financial_year"].values].index(year)
    p0, p1 = (float(v["p_overspend"][k, y]) for k in (0, i))
    change = float(v["mean_overspend_diff"][i, y])
    who = (
        "all services together"
        if service == "total"
        else str(scen["service_label"].sel(service=service).values)
    )
    amount = money_m(change)
    sign = "" if amount.startswith(MINUS) else "+"
    return (
        f"In the scenario \u201c{scenario_label(scen, i)}\u201d, the chance of overspend of "
        f"{who} in {year} {_direction(p0, p1)} ({sign}{amount} expected overspend)."
    )


def scenario_sentences(scen: xr.Dataset, year: str, service: str = "total") -> list[str]:
    """One :func:`scenario_sentence` per scenario (the base case is the comparison)."""
    return [scenario_sentence(scen, i, year, service) for i in range(1, scen.sizes["scenario"])]


def reserve_line(reserve: xr.Dataset, level: float = 0.9, service: str = "total") -> str:
    """One console line: the reserve at ``level`` for every year, e.g.

    "Reserve that covers the overspend in 9 futures out of 10, all services
    together: £7.9m in 2024/25, £10.2m in 2025/26 (s.e. up to £0.2m)."
    """
    years = [str(y) for y in reserve["financial_year"].values]
    amounts = [_at(reserve, "reserve", service, y, confidence=level) for y in years]
    worst_se = max(_at(reserve, "reserve_se", service, y, confidence=level) for y in years)
    listed = ", ".join(f"{money_m(a, 1, '-')} in {y}" for a, y in zip(amounts, years, strict=True))
    return (
        f"Reserve that covers the overspend in {futures_out_of(level)}, "
        f"{subject_of(reserve, service)}: {listed} (s.e. up to {money_k_or_m(worst_se)})."
    )


# ------------------------------------------------------------------ the worst outcomes


def _arrivals_more(line) -> str:
    """New placements above the average in the worst futures, in words ("" when none drawn)."""
    extra = line.arrivals_tail - line.arrivals_average
    if not np.isfinite(extra):
        return ""
    n = round_half_away(extra)
    if n == 0:
        return ", with about as many new placements as usual"
    return f", with {fixed(abs(n))} {'more' if n > 0 else 'fewer'} new placements than usual"


def _placements_behind(line) -> str:
    """High-cost placements and extended plans in the worst futures, in words ("" if none)."""
    parts = []
    for average, tail, what in (
        (line.high_cost_average, line.high_cost_tail, "high-cost placements open"),
        (line.extended_average, line.extended_tail, "planned ends extended"),
    ):
        if np.isfinite(tail) and tail > 0:
            parts.append(f"{count(tail)} {what} ({count(average)} on average)")
    return "".join(f", {p}" for p in parts)


def tail_sentence(t, top: int = 2) -> str:
    """Which lines sit behind the total's worst futures, e.g. "In the worst 1 in 10 futures
    for 2024/25, all services together overspend by £10.1m on average (against £3.3m
    over all futures); Children's homes carries 31% of it (13% on average), ...".

    ``t`` is a :class:`simulator.analysis.tail.TailAttribution`.
    """
    tail = f"1 in {round(1 / t.tail)}"
    head = (
        f"In the worst {tail} futures for {t.financial_year}, all services together overspend "
        f"by {money_m(t.total_tail_mean)} on average (against {money_m(t.total_mean)} over all "
        "futures)"
    )
    if t.total_tail_mean <= 0:
        return head + "."
    parts = []
    for line in t.lines[:top]:
        average = (
            f" ({pct_text(line.share_average)} on average)"
            if np.isfinite(line.share_average)
            else ""
        )
        parts.append(
            f"{line.label} carries {pct_text(line.share_tail)} of it{average}"
            f"{_arrivals_more(line)}{_placements_behind(line)}"
        )
    return f"{head}; {'; '.join(parts)}."


#: Columns of :func:`tail_table_rows`.
TAIL_COLUMNS = (
    "Budget line",
    "Mean overspend",
    "Share on average",
    "Mean overspend in the worst 1 in 10",
    "Share there",
    "New starts: average",
    "New starts: worst 1 in 10",
    "High-cost open: average, worst 1 in 10",
    "Its own worst 1 in 10",
    "New starts there",
)


def tail_table_rows(t) -> list[list[str]]:
    """The attribution as text cells (£m, percentages, placements), largest tail first."""

    def share(x: float) -> str:
        return pct_text(x) if np.isfinite(x) else "n/a"

    def placements(x: float) -> str:
        return count(x) if np.isfinite(x) else "\u2013"

    return [
        [
            line.label,
            money_m(line.mean_overspend),
            share(line.share_average),
            money_m(line.tail_overspend),
            share(line.share_tail),
            placements(line.arrivals_average),
            placements(line.arrivals_tail),
            (
                f"{placements(line.high_cost_average)}, {placements(line.high_cost_tail)}"
                if np.isfinite(line.high_cost_tail)
                else "\u2013"
            ),
            money_m(line.own_tail_overspend),
            placements(line.own_arrivals_tail),
        ]
        for line in t.lines
    ]


# ------------------------------------------------------------------ movement since the last forecast


def movement_sentence(m, year: str, since: str = "the last forecast") -> str:
    """The total's movement in words, e.g. "The chance of overspend of all services together
    in 2024/25 rose from 62% to 84% since the last forecast, mainly Children's homes
    (+£1.2m of the +£2.0m change in expected overspend)."

    ``m`` is a :class:`simulator.analysis.movement.Movement`.
    """
    total = m.of("total", year)
    before, after = pct_text(total.p_before), pct_text(total.p_after)
    if before == after:
        moved = f"stayed at {after}"
    else:
        moved = f"{'rose' if total.p_after > total.p_before else 'fell'} from {before} to {after}"
    text = f"The chance of overspend of all services together in {year} {moved} since {since}"
    lines = m.lines(year)
    change = money_m(total.mean_change)
    if not lines or change in (money_m(0.0), MINUS + money_m(0.0)):
        return text + "."
    top = lines[0]
    part = money_m(top.mean_change)
    if part in (money_m(0.0), MINUS + money_m(0.0)):  # no line moved by as much as £0.05m
        return text + "."
    return (
        f"{text}, mainly {top.label} ({'' if part.startswith(MINUS) else '+'}{part} of the "
        f"{'' if change.startswith(MINUS) else '+'}{change} change in expected overspend)."
    )


#: Columns of :func:`movement_table_rows`.
MOVEMENT_COLUMNS = (
    "",
    "Chance before",
    "Chance now",
    "Median before",
    "Median now",
    "P90 before",
    "P90 now",
    "Change in mean",
)


def movement_table_rows(m, year: str) -> tuple[list[list[str]], list[bool]]:
    """Each row's movement in ``year`` as text cells (£m), and which rows are subtotals."""
    rows, strong = [], []
    for r in m.rows:
        if r.financial_year != year:
            continue
        change = money_m(r.mean_change)
        rows.append([
            r.label, pct_text(r.p_before), pct_text(r.p_after), money_m(r.median_before),
            money_m(r.median_after), money_m(r.p90_before), money_m(r.p90_after),
            change if change.startswith(MINUS) else "+" + change,
        ])  # fmt: skip
        strong.append(r.service_type in ("department", "total"))
    return rows, strong


def cause_sentence(split) -> str:
    """The total's change in expected overspend by cause, e.g. "Of the +£2.0m change in
    expected overspend of all services together in 2024/25, the new actuals contributed
    +£1.2m, the new caseload +£0.3m and changed assumptions +£0.5m."

    ``split`` is a :class:`simulator.analysis.movement.CauseSplit`; its steps
    are the last forecast, then the new actuals, caseload and assumptions.
    """
    means = [mean for _, _, mean in split.steps]
    a, b, c = (_signed(means[k + 1] - means[k]) for k in range(3))
    text = (
        f"Of the {_signed(means[-1] - means[0])} change in expected overspend of all services "
        f"together in {split.financial_year}, the new actuals contributed {a}, the new caseload "
        f"{b} and changed assumptions {c}"
    )
    noise = money_m(abs(split.sampling))
    if noise != money_m(0.0):
        text += (
            f" (the last forecast as run differs by {_signed(split.sampling)} from its re-run "
            "here on this run's random numbers)"
        )
    return text + "."


def _signed(x: float) -> str:
    amount = money_m(x)
    return amount if amount.startswith(MINUS) else "+" + amount


def cause_table_rows(split) -> list[list[str]]:
    """The split as text cells: each step's chance of overspend, mean overspend and change."""
    rows = []
    for k, (label, p, mean) in enumerate(split.steps):
        change = "" if k == 0 else _signed(mean - split.steps[k - 1][2])
        rows.append([label, pct_text(p), money_m(mean), change])
    return rows
