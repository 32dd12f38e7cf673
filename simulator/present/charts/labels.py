"""Readable names of sensitivity inputs, for the tornado and Sobol charts."""

from __future__ import annotations

#: Config paths inside a service, in the words a finance officer would use.
INPUT_WORDS = {
    "arrivals.per_year": "new placements a year",
    "arrivals.growth": "demand growth",
    "length.median_weeks": "placement length",
    "length.mean_weeks": "placement length",
    "length.sigma": "spread of placement lengths",
    "length.shape": "shape of placement lengths",
    "unit_cost.mean_gbp_per_week": "weekly cost",
    "unit_cost.high_cost_share": "share of high-cost placements",
    "unit_cost.high_cost_mean_gbp_per_week": "weekly cost of high-cost placements",
    "cost.annual_gbp": "annual cost",
    "cost.growth": "cost growth",
    "income.share": "income share",
    "inflation.extra": "extra price rise",
    "delivery": "delivery",
}


def input_label(name: str, labels: dict[str, str] | None = None) -> str:
    """A readable name for a sensitivity input such as ``services.home_care.arrivals.growth``.

    Parameters
    ----------
    name : str
        The input's dotted name (optionally with a ``[year]`` suffix).
    labels : dict, optional
        Service keys to display names.

    Examples
    --------
    >>> input_label("services.home_care.arrivals.growth", {"home_care": "Home care"})
    'Home care: demand growth'
    >>> input_label("inflation.factors.nlw.uplift[2025/26]")
    'Price rise: nlw, 2025/26'
    """
    labels = labels or {}
    year = ""
    if name.endswith("]") and "[" in name:
        name, year = name[:-1].split("[", 1)
        year = f", {year}"
    parts = name.split(".")
    if parts[0] == "services" and len(parts) >= 3:
        who = labels.get(parts[1], parts[1].replace("_", " ").capitalize())
        rest = ".".join(parts[2:])
        if parts[2] == "savings" and len(parts) >= 5:
            what = f"saving ‘{parts[3].replace('_', ' ')}’ {INPUT_WORDS.get(parts[-1], parts[-1])}"
        else:
            what = INPUT_WORDS.get(rest, rest.replace(".", " ").replace("_", " "))
        return f"{who}: {what}{year}"
    if parts[:2] == ["inflation", "factors"] and len(parts) >= 3:
        return f"Price rise: {parts[2].replace('_', ' ')}{year}"
    return " ".join(p.replace("_", " ") for p in parts) + year
