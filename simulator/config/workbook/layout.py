"""The input workbook's sheets and columns: what each holds, where it goes in the config.

One declaration read by both the writer (headers, notes, dropdowns, widths) and
the reader (which column is which field). The notes on uncertain figures come
from the one table of inputs, :data:`simulator.config.inputs.INPUTS` (its
words, description, units and allowed range); this module adds only the
fields that are not uncertain inputs (labels, counts, spreads, dates).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from simulator.config.inputs import describe_allowed, spec
from simulator.config.schema import LENGTH_FAMILIES

#: How an uncertain figure may be typed, said once on every such header.
UNCERTAIN_HOW = (
    "Type one number, or low / most likely / high (e.g. 2% / 3% / 5%: the tool then uses a "
    "PERT distribution on that range), or a named distribution such as "
    "normal(mean=0.03, sd=0.01)."
)


@dataclass(frozen=True)
class Column:
    """One column of a table sheet.

    Attributes
    ----------
    header : str
        The header text (matched without regard to case or spaces when read).
    path : tuple of str
        Where the value goes below the row's own table in the config.
    kind : str
        ``text``, ``number``, ``whole``, ``uncertain``, ``choice``, ``bool``, ``date``,
        ``numbers`` (a list typed ``1, 1.2, ...``), ``weights`` (``cpi=0.5, ...``) or
        ``weeks`` (a number, or ``none`` for an empty list).
    note : str
        The header's note: what it is and its units.
    choices : tuple of str
        The values allowed in a ``choice`` column (its dropdown).
    width : float
        Column width in characters.
    """

    header: str
    path: tuple[str, ...]
    kind: str
    note: str
    choices: tuple[str, ...] = ()
    width: float = 14


def uncertain_column(header: str, owner: str, path: str, width: float = 16) -> Column:
    """A column of an uncertain figure, its note written from the table of inputs."""
    entry = spec(owner, path)
    note = (
        f"{entry.words[0].upper()}{entry.words[1:]}: {entry.description}. Units: "
        f"{entry.allowed.units}; allowed: {describe_allowed(entry)}. {UNCERTAIN_HOW}"
    )
    return Column(header, tuple(path.split(".")), "uncertain", note, width=width)


# ------------------------------------------------------------------ Council sheet

#: The Council sheet's rows: (label in column A, config path, kind, note).
COUNCIL_ROWS: tuple[Column, ...] = (
    Column("Council name", ("council", "name"), "text", "The council's name, as reports print it."),
    Column(
        "First financial year",
        ("horizon", "start"),
        "text",
        "The first financial year simulated, written like 2024/25 (April to March).",
    ),
    Column(
        "Years", ("horizon", "years"), "whole", "How many financial years to simulate (1 to 5)."
    ),
    Column(
        "Price base",
        ("inflation", "price_base"),
        "text",
        "The financial year whose prices the weekly and annual costs are in (like 2024/25); "
        "blank for the first financial year.",
    ),
    Column(
        "Draws",
        ("run", "draws"),
        "whole",
        "How many possible futures to simulate (10,000 is usual); blank for 10,000.",
    ),
    Column(
        "Seed",
        ("run", "seed"),
        "whole",
        "A whole number that fixes the random numbers, so a run can be repeated exactly.",
    ),
    Column(
        "Snapshot date",
        ("snapshot", "as_of"),
        "date",
        "The date of the caseload snapshot (the Snapshot sheet): a month end. Blank for none.",
    ),
    Column(
        "Snapshot file",
        ("snapshot", "file"),
        "text",
        "A CSV file of today's placements beside this workbook, instead of the Snapshot sheet.",
    ),
    Column(
        "Snapshot source",
        ("snapshot", "source"),
        "text",
        "Where the snapshot rows came from (a file name), for the record.",
    ),
    replace(
        uncertain_column("Snapshot extension probability", "snapshot", "extension_probability"),
        path=("snapshot", "extension_probability"),
    ),
    Column(
        "Actuals as-of date",
        ("actuals", "as_of"),
        "date",
        "The month end to which actual spend is known (the Actuals sheet). Blank for none.",
    ),
    Column(
        "Actuals file",
        ("actuals", "file"),
        "text",
        "A CSV file of actual spend beside this workbook, instead of the Actuals sheet.",
    ),
    Column(
        "Actuals source",
        ("actuals", "source"),
        "text",
        "Where the actuals rows came from (a file name), for the record.",
    ),
)

# ------------------------------------------------------------------ Services sheet

KINDS = ("placements", "cost")


def budget_header(year: str | None) -> str:
    """The header of a budget column: one year's, or the same every year (``year=None``)."""
    return "Budget every year (£)" if year is None else f"Budget {year} (£)"


def target_header(year: str | None) -> str:
    """The header of a savings target column (``year=None``: the same every year)."""
    return "Target every year (£)" if year is None else f"Target {year} (£)"


def uplift_header(year: str | None) -> str:
    """The header of a factor's uplift column (``year=None``: every April not listed)."""
    return "Uplift each April" if year is None else f"Uplift April {year}"


def shock_header(year: str | None) -> str:
    """The header of a demand factor's shock column (``year=None``: every year not listed)."""
    return "Shock each year" if year is None else f"Shock {year}"


_BY_YEAR = re.compile(r"^(budget|target|uplift april|shock)\s+(\d{4}/\d{2})(\s*\(£\))?$")


def year_of(header: str, stem: str) -> str | None:
    """The financial year of a per-year header such as ``Budget 2025/26 (£)`` (or ``None``)."""
    match = _BY_YEAR.match(normal(header))
    return match[2] if match and match[1] == stem else None


def normal(text: str) -> str:
    """A header as it is matched: lower case, single spaces."""
    return " ".join(str(text).split()).lower()


SERVICE_ID = Column(
    "Id",
    ("id",),
    "text",
    "The service's short name in results files and scenarios (lower_case_with_underscores); "
    "blank to make one from the label.",
    width=22,
)
SERVICE_LABEL = Column("Service", ("label",), "text", "The budget line's name.", width=34)

#: The Services sheet before and after the budget columns.
SERVICES_HEAD: tuple[Column, ...] = (
    SERVICE_ID,
    SERVICE_LABEL,
    Column("Department", ("department",), "choice", "The department it reports to.", width=26),
    Column(
        "Kind",
        ("kind",),
        "choice",
        "placements: children or clients in placements or packages (caseload, arrivals, "
        "length, weekly cost); cost: a line with an annual cost (staffing, transport).",
        choices=KINDS,
        width=12,
    ),
)

SERVICES_TAIL: tuple[Column, ...] = (
    Column(
        "Budget is a placeholder",
        ("budget_placeholder",),
        "bool",
        "TRUE when the budget is a stand-in (overspend calibrate writes its model's mean "
        "cost): the tool says so until you type the real budget and clear this cell.",
        choices=("TRUE", "FALSE"),
    ),
    Column(
        "Open placements",
        ("caseload", "open"),
        "whole",
        "Placements open at the start of the first year (placements lines).",
    ),
    Column(
        "Elapsed weeks",
        ("caseload", "elapsed_weeks"),
        "weeks",
        "How long the open placements have already lasted, weeks (one number for all; "
        "list them one by one on the Open placements sheet instead; none: an empty list).",
    ),
    uncertain_column("New placements a year", "placements", "arrivals.per_year"),
    uncertain_column("Demand growth", "placements", "arrivals.growth"),
    Column(
        "Demand surges",
        ("arrivals", "dispersion"),
        "number",
        "Spread of monthly arrivals beyond chance (0 for none; 0.05 to 0.15 is usual).",
    ),
    Column(
        "Seasonality",
        ("arrivals", "seasonality"),
        "numbers",
        "Twelve relative weights of arrivals, April to March, separated by commas; blank for even.",
    ),
    Column(
        "Length family",
        ("length", "dist"),
        "choice",
        "The shape of placement lengths: lognormal (long tail), gamma, weibull or exponential.",
        choices=LENGTH_FAMILIES,
    ),
    uncertain_column("Median length (weeks)", "placements", "length.median_weeks"),
    uncertain_column("Mean length (weeks)", "placements", "length.mean_weeks"),
    uncertain_column("Length sigma", "placements", "length.sigma"),
    uncertain_column("Length shape", "placements", "length.shape"),
    uncertain_column("Weekly cost (£)", "placements", "unit_cost.mean_gbp_per_week"),
    Column(
        "Weekly cost spread",
        ("unit_cost", "cv"),
        "number",
        "Coefficient of variation of weekly costs between clients (0.25 is 25%).",
    ),
    uncertain_column("High-cost share", "placements", "unit_cost.high_cost_share"),
    uncertain_column(
        "High-cost weekly cost (£)", "placements", "unit_cost.high_cost_mean_gbp_per_week"
    ),
    Column(
        "High-cost spread",
        ("unit_cost", "high_cost_cv"),
        "number",
        "Coefficient of variation of high-cost placements' weekly costs.",
    ),
    uncertain_column("Annual cost (£)", "cost", "cost.annual_gbp"),
    uncertain_column("Cost growth", "cost", "cost.growth"),
    Column(
        "Monthly spread",
        ("cost", "monthly_cv"),
        "number",
        "Month-to-month coefficient of variation of a cost line's spend.",
    ),
    Column(
        "Price rise factors",
        ("inflation", "factors"),
        "weights",
        "Which shared factors of the Inflation sheet move this line's prices each April, "
        "with weights: e.g. nlw=0.7, cpi=0.3.",
        width=30,
    ),
    uncertain_column("Extra price rise", "service", "inflation.extra"),
    uncertain_column("Income share", "service", "income.share"),
)

# ------------------------------------------------------------------ other sheets

SERVICE_REF = Column(
    "Service",
    ("service",),
    "service",
    "The service's label (as on the Services sheet) or its id.",
    width=34,
)

INFLATION_HEAD: tuple[Column, ...] = (
    Column(
        "Id",
        ("id",),
        "text",
        "The factor's short name, as the Services sheet's Price rise factors column names it.",
        width=16,
    ),
    Column("Description", ("description",), "text", "What the factor is.", width=50),
    uncertain_column(uplift_header(None), "factor", "uplift", width=28),
)


def demand_head() -> tuple[Column, ...]:
    """The Demand sheet's columns before its per-year shocks."""
    return (
        Column(
            "Id",
            ("id",),
            "text",
            "The factor's short name, as the Services sheet's Demand factors column names it.",
            width=16,
        ),
        Column("Description", ("description",), "text", "What the factor is.", width=50),
        uncertain_column(shock_header(None), "demand", "shock", width=28),
    )


#: A shared factor sheet: its name, config section, owner in the table of inputs, the
#: uncertain figure's path, its per-year header and stem (as :func:`year_of` reads it).
FACTOR_SHEETS = {
    "Inflation": ("inflation", "factor", "uplift", uplift_header, "uplift april"),
    "Demand": ("demand", "demand", "shock", shock_header, "shock"),
}

DEMAND_WEIGHTS = Column(
    "Demand factors",
    ("arrivals", "demand"),
    "weights",
    "Which shared factors of the Demand sheet move this line's new placements each year, "
    "with weights: e.g. winter=1, discharge=0.5 (none: an empty list).",
    width=26,
)

#: The Services sheet's columns of children's ages (``[services.<id>.ageing]``).
AGEING_COLUMNS: tuple[Column, ...] = (
    Column(
        "Leaves care at age",
        ("ageing", "leave_at"),
        "number",
        "Age in years at which a child's placement ends (18 if blank, when ages are given).",
    ),
    Column(
        "Ages at entry",
        ("ageing", "age_at_entry"),
        "weights",
        "Shares of new placements by age band in whole years, adding up to 1: e.g. "
        "0-4=0.3, 5-9=0.2, 10-15=0.4, 16-17=0.1.",
        width=30,
    ),
    Column(
        "Ages of open placements",
        ("ageing", "open_ages"),
        "weights",
        "Shares of the placements open at the start by age band (blank: as at entry).",
        width=30,
    ),
    Column(
        "Continue into",
        ("ageing", "continue_to"),
        "weights",
        "Shares of those reaching the leaving age who continue in an adults' service, by its "
        "id: e.g. supported_living=0.1.",
        width=26,
    ),
)

#: The Moves sheet: open placements moving from one placement service to another.
MOVES_COLUMNS: tuple[Column, ...] = (
    Column(
        "Service",
        ("service",),
        "service",
        "The service the placements move from (its label or id).",
        width=34,
    ),
    Column(
        "Moves to",
        ("to",),
        "service",
        "The placement service they move to (its label or id).",
        width=34,
    ),
    uncertain_column("Moves a year", "move", "per_year", width=22),
)

SAVINGS_HEAD: tuple[Column, ...] = (
    SERVICE_REF,
    Column(
        "Id",
        ("id",),
        "text",
        "The programme's short name (lower_case_with_underscores); blank to make one from its "
        "name.",
        width=26,
    ),
    Column("Programme", ("label",), "text", "The savings programme's name.", width=36),
)
SAVINGS_TAIL: tuple[Column, ...] = (uncertain_column("Delivery", "saving", "delivery", width=20),)

SCENARIO_COLUMNS: tuple[Column, ...] = (
    Column("Scenario", ("id",), "text", "The scenario's short name.", width=24),
    Column("Description", ("description",), "text", "What the scenario supposes.", width=50),
    Column(
        "Change",
        ("change",),
        "text",
        "The config field it changes, e.g. services.childrens_homes.arrivals.growth; one row "
        "per change.",
        width=50,
    ),
    Column(
        "New value",
        ("value",),
        "text",
        "The field's value in the scenario: a number, low / most likely / high, or a named "
        "distribution.",
        width=30,
    ),
)

SNAPSHOT_COLUMNS: tuple[Column, ...] = (
    SERVICE_REF,
    Column("Start date", ("start_date",), "date", "When the placement started."),
    Column(
        "Weekly cost (£)",
        ("weekly_cost_gbp",),
        "number",
        "Its weekly cost (blank: drawn from the service's costs).",
    ),
    Column(
        "Planned end date",
        ("planned_end_date",),
        "date",
        "When it is planned to end (blank: open-ended).",
    ),
)

OPEN_COLUMNS: tuple[Column, ...] = (
    SERVICE_REF,
    Column("Elapsed weeks", ("elapsed_weeks",), "number", "How long it has lasted, weeks."),
    Column("Weekly cost (£)", ("weekly_cost_gbp",), "number", "Its weekly cost (optional)."),
)

ACTUALS_COLUMNS: tuple[Column, ...] = (
    SERVICE_REF,
    Column("Month", ("month",), "month", "The month, e.g. 2024-04 or Apr-24.", width=12),
    Column("Net spend (£)", ("net_spend_gbp",), "number", "Net spend in the month, £."),
    Column("Caseload", ("caseload",), "whole", "Placements open at the month end (optional)."),
)

FORECAST_COLUMNS: tuple[Column, ...] = (
    Column(
        "Row",
        ("row",),
        "text",
        "A service id, a department or total: whose forecast it is.",
        width=34,
    ),
    Column(
        "Forecast overspend (£)",
        ("value",),
        "number",
        "The officer's own forecast of the year's overspend, for comparison.",
        width=24,
    ),
)

#: Sheets the reader reads, in the order the writer writes them.
SHEETS = (
    "Council",
    "Services",
    "Inflation",
    "Demand",
    "Savings",
    "Moves",
    "Scenarios",
    "Snapshot",
    "Open placements",
    "Actuals",
    "Forecasts",
)
#: Sheets a workbook must have.
REQUIRED_SHEETS = ("Council", "Services")
#: Sheets the writer adds for people to read; the reader passes over them, and over any
#: sheet whose name starts with "Notes".
READ_ONLY_SHEETS = ("Read me", "Uncertain figures")
