"""A generic list of care packages or placements (adults' or any other service).

One row per package::

    client_id,service,start_date,end_date,weekly_cost
    A1023,Home care,03/06/2021,,328.50
    A1024,Residential care,2019-11-20,2023-02-01,916

``end_date`` is empty while the package is open; ``weekly_cost`` (GBP per week)
may be empty when unknown, and may be written with a pound sign or thousands
separators. Column names are not case-sensitive; an optional ``department``
column groups services in the results. Dates are DD/MM/YYYY or YYYY-MM-DD.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from .censor import censor_rows
from .records import (
    ERROR,
    FIX,
    Problem,
    ProblemLog,
    Records,
    ServiceInfo,
    date_problem,
    end_before_start_problem,
    parse_dates,
    read_table,
    service_key,
    to_day,
)

PACKAGE_COLUMNS = ("CLIENT_ID", "SERVICE", "START_DATE", "END_DATE")
#: Largest weekly cost taken as real (GBP per week); larger is a typing mistake.
MAX_WEEKLY_COST = 1_000_000.0


def _required_cells(table: pd.DataFrame, source: str, log: ProblemLog) -> pd.DataFrame:
    for column in ("CLIENT_ID", "SERVICE", "START_DATE"):
        empty = table[column] == ""
        for row in table.loc[empty, "_row"]:
            log.add(
                Problem(
                    source,
                    int(row),
                    column.lower(),
                    "",
                    f"no {column.lower()} given",
                    "row dropped",
                    ERROR,
                    f"missing {column.lower()}",
                )
            )
        table = table[~empty]
    return table


def _dates(table: pd.DataFrame, source: str, log: ProblemLog) -> pd.DataFrame:
    start, bad_start = parse_dates(table["START_DATE"])
    end, bad_end = parse_dates(table["END_DATE"])
    for column, bad in (("START_DATE", bad_start), ("END_DATE", bad_end)):
        for row, value in zip(table.loc[bad, "_row"], table.loc[bad, column], strict=True):
            log.add(date_problem(source, int(row), column.lower(), value, "row dropped"))
    table = table.assign(start=start, end=end)[~(bad_start | bad_end)]
    backwards = table["end"] < table["start"]
    for _, r in table[backwards].iterrows():
        log.add(
            end_before_start_problem(
                source, int(r["_row"]), "end_date", r["END_DATE"], "start_date", r["START_DATE"]
            )
        )
    return table[~backwards]


def parse_costs(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Weekly costs from text such as ``'£1,234.50'``.

    Returns
    -------
    costs : pandas.Series of float
        GBP per week; NaN where empty or not a usable amount.
    bad : pandas.Series of bool
        True where a cell is not empty but is not a positive amount up to
        :data:`MAX_WEEKLY_COST`.
    """
    cleaned = values.str.replace(r"[£,\s]", "", regex=True)
    costs = pd.to_numeric(cleaned, errors="coerce")
    usable = (costs > 0) & (costs <= MAX_WEEKLY_COST)
    bad = (values != "") & ~usable
    return costs.where(usable), bad


def _costs(table: pd.DataFrame, source: str, log: ProblemLog) -> pd.Series:
    if "WEEKLY_COST" not in table.columns:
        log.notes.append(f"{source}: no weekly_cost column; unit costs are not fitted")
        return pd.Series(np.nan, index=table.index)
    costs, bad = parse_costs(table["WEEKLY_COST"])
    for row, value in zip(table.loc[bad, "_row"], table.loc[bad, "WEEKLY_COST"], strict=True):
        log.add(
            Problem(
                source,
                int(row),
                "weekly_cost",
                value,
                f"{value!r} is not a weekly cost (a positive amount in GBP, at most "
                f"{MAX_WEEKLY_COST:,.0f})",
                "cost treated as unknown",
                ERROR,
                "unusable weekly cost",
            )
        )
    return costs


def _deduplicate(table: pd.DataFrame, source: str, log: ProblemLog) -> pd.DataFrame:
    """Drop rows repeating another row's client, service, start and end."""
    keys = ["CLIENT_ID", "_service", "start", "END_DATE"]
    dup = table.duplicated(keys, keep="first")
    first_row = table.groupby(keys, sort=False, dropna=False)["_row"].transform("first")
    for row, kept in zip(table.loc[dup, "_row"], first_row[dup], strict=True):
        log.add(
            Problem(
                source,
                int(row),
                "",
                "",
                f"duplicate package: same client, service and dates as row {int(kept)}",
                "row dropped",
                FIX,
                "duplicate package",
            )
        )
    return table[~dup]


def _services(table: pd.DataFrame, source: str, department: str) -> dict[str, ServiceInfo]:
    services = {}
    has_department = "DEPARTMENT" in table.columns
    for key, group in table.groupby("_service", sort=False):
        names = group["SERVICE"].value_counts()
        depts = group["DEPARTMENT"][group["DEPARTMENT"] != ""] if has_department else []
        services[key] = ServiceInfo(
            key=key,
            label=str(names.index[0]),
            department=str(pd.Series(depts).mode().iloc[0]) if len(depts) else department,
            origin=f"service {', '.join(repr(n) for n in names.index)}",
            source=source,
        )
    return services


def load_packages(
    path: str | Path,
    department: str = "Adults' services",
    strict: bool = False,
    known_at: date | str | None = None,
) -> Records:
    """Read a packages CSV (``client_id, service, start_date, end_date, weekly_cost``).

    Parameters
    ----------
    path : str or pathlib.Path
    department : str
        Department of services whose rows give none.
    strict : bool
        Stop with :class:`~.records.DataError` at the first bad row instead of
        dropping it and carrying on.
    known_at : date or str, optional
        Read the list as it stood on this date: later starts dropped, later
        ends blank (still open then); for backtests.

    Returns
    -------
    Records

    Raises
    ------
    DataError
        A missing file or column, or (in strict mode) any bad row.
    """
    source = Path(path).name
    log = ProblemLog()
    table = read_table(path, PACKAGE_COLUMNS, "packages list")
    log.name_columns(source, table)
    table = _required_cells(table, source, log)
    table = _dates(table, source, log)
    if known_at is not None:
        table = censor_rows(table, to_day(known_at), ("END_DATE",))
    table = table.assign(
        weekly_cost=_costs(table, source, log), _service=table["SERVICE"].map(service_key)
    )
    log.raise_if_strict(strict, source)
    table = _deduplicate(table, source, log)
    placements = pd.DataFrame(
        {
            "client": table["CLIENT_ID"].to_numpy(),
            "service": table["_service"].to_numpy(),
            "start": table["start"].to_numpy(),
            "end": table["end"].to_numpy(),
            "weekly_cost": table["weekly_cost"].to_numpy(dtype=float),
            "source": source,
            "row": table["_row"].to_numpy(dtype=np.int64),
            "file": source,
            "start_censored": False,
            "last_seen": pd.Series(pd.NaT, index=range(len(table)), dtype="datetime64[s]"),
            # A packages list has no column that marks a move between services.
            "moved_from": "",
            "moved_to": "",
        }
    )
    return Records(placements, _services(table, source, department), log, sources=[source])
