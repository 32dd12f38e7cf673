"""Placement records after cleaning, and the log of what cleaning found.

Both input layouts (SSDA903 episodes and the generic packages CSV) become the
same table of *placements*: one row per continuous placement in one budget
service, with its start date, its end date (missing while open) and its weekly
cost when the records give one. Everything the loaders drop or change is
recorded as a :class:`Problem` naming the file, the row and the column.

Rows are numbered as a spreadsheet shows them: the header is row 1, so the
first record is row 2.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

from simulator.errors import UserError

#: Columns of the placements table.
PLACEMENT_COLUMNS = (
    "client",
    "service",
    "start",
    "end",
    "weekly_cost",
    "source",
    "row",
    "file",
    "start_censored",
    "last_seen",
    "moved_from",
    "moved_to",
)

#: Problems of this kind are bad values; ``--strict`` stops on the first file that has one.
ERROR = "error"
#: Routine cleaning (duplicates, overlaps, joined episodes): reported, never fatal.
FIX = "fix"

_ISO = re.compile(r"^\d{4}-\d{1,2}-\d{1,2}(?:[T ].*)?$")
_UK = re.compile(r"^\d{1,2}/\d{1,2}/\d{4}(?: .*)?$")
# Dates outside these years are typing mistakes in care records, not real dates.
_FIRST_YEAR, _LAST_YEAR = 1900, 2100
# How many problems a strict-mode error lists before summarising the rest.
_SHOW = 20


class DataError(UserError):
    """Records that cannot be used (a missing column, or bad rows in strict mode)."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one row, and what was done about it.

    Attributes
    ----------
    source : str
        File name.
    row : int
        Spreadsheet row (the header is row 1); 0 for a problem with the whole file.
    column : str
        Column name ('' when no single column is to blame).
    value : str
        The value as written.
    message : str
        What is wrong, in words.
    action : str
        What was done, in a few words shared by every problem of its kind:
        ``'row dropped'``, ``'end date changed'``, ``'joined'``, ``'kept'``, ...
    kind : str
        :data:`ERROR` for bad values, :data:`FIX` for routine cleaning.
    reason : str
        Short category used in the summary, e.g. ``'unparseable date'``.
    """

    source: str
    row: int
    column: str
    value: str
    message: str
    action: str
    kind: str
    reason: str

    def __str__(self) -> str:
        where = self.source if self.row == 0 else f"{self.source} row {self.row}"
        if self.column:
            where += f", column {self.column}"
        return f"{where}: {self.message} ({self.action})"


@dataclass
class ProblemLog:
    """Everything the loaders dropped or changed, in the order found.

    Attributes
    ----------
    problems : list of Problem
    notes : list of str
        Whole-file remarks (records pooled from several councils, rows ignored
        because they fall after the as-of date, ...).
    columns : dict of str to dict
        By file: its column names as written, by their upper-case form.
    """

    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    columns: dict[str, dict[str, str]] = field(default_factory=dict)

    def add(self, problem: Problem) -> None:
        """Record one problem, its column named as the file writes it."""
        written = self.columns.get(problem.source, {}).get(problem.column.upper())
        if written is not None and written != problem.column:
            problem = replace(problem, column=written)
        self.problems.append(problem)

    def extend(self, problems: list[Problem]) -> None:
        """Record several problems."""
        for problem in problems:
            self.add(problem)

    def name_columns(self, source: str, table: pd.DataFrame) -> None:
        """Name ``source``'s columns in its problems as its header writes them (from
        :func:`read_table`), e.g. ``Decom`` rather than ``DECOM``."""
        self.columns[source] = dict(table.attrs.get("as_written", {}))

    def errors(self, source: str | None = None) -> list[Problem]:
        """The bad-value problems (of one file, when ``source`` is given)."""
        return [
            p for p in self.problems if p.kind == ERROR and (source is None or p.source == source)
        ]

    def raise_if_strict(self, strict: bool, source: str) -> None:
        """In strict mode, stop with every bad row of ``source`` listed (up to 20).

        Raises
        ------
        DataError
            When ``strict`` and the file has any bad-value problem.
        """
        bad = self.errors(source)
        if not strict or not bad:
            return
        lines = [str(p) for p in bad[:_SHOW]]
        if len(bad) > _SHOW:
            lines.append(f"... and {len(bad) - _SHOW} more")
        raise DataError(
            f"{source}: {len(bad)} bad row{'s' if len(bad) != 1 else ''} (strict mode stops "
            "at bad data; leave out --strict to drop them and carry on):\n  " + "\n  ".join(lines)
        )

    def summary(self) -> list[str]:
        """One line per file and reason: how many rows, and what was done.

        Rows are counted, not problems: a row with two bad dates is one row
        dropped. Whole-file problems (row 0) count one each.
        """
        rows: dict[tuple[str, str, str, str], set] = defaultdict(set)
        for i, p in enumerate(self.problems):
            rows[(p.source, p.kind, p.reason, p.action)].add(p.row if p.row else ("file", i))
        lines = []
        for (source, kind, reason, action), which in sorted(rows.items()):
            label = "bad data" if kind == ERROR else "cleaning"
            lines.append(f"{source}: {reason}: {len(which):,} ({action}) [{label}]")
        return lines + list(self.notes)

    def to_frame(self) -> pd.DataFrame:
        """Every problem as a table (for ``problems.csv``)."""
        cols = ["source", "row", "column", "value", "message", "action", "kind", "reason"]
        return pd.DataFrame([[getattr(p, c) for c in cols] for p in self.problems], columns=cols)


# ------------------------------------------------------------------ reading files


def read_table(path: str | Path, required: tuple[str, ...], what: str) -> pd.DataFrame:
    """Read a CSV file as text, with column names upper-cased and cells stripped.

    Parameters
    ----------
    path : str or pathlib.Path
    required : tuple of str
        Column names (upper case) that must be present.
    what : str
        What the file should be, for messages (e.g. ``'SSDA903 episodes table'``).

    Returns
    -------
    pandas.DataFrame
        Every cell a ``str`` ('' when empty), plus a ``_row`` column with the
        spreadsheet row number; ``attrs["as_written"]`` maps each (upper-case)
        column name to the name as the file writes it.

    Raises
    ------
    DataError
        When the file cannot be read or lacks a required column.
    """
    path = Path(path)
    try:
        table = pd.read_csv(
            path, dtype=str, keep_default_na=False, skipinitialspace=True, encoding="utf-8-sig"
        )
    except FileNotFoundError:
        raise DataError(f"{path}: no such file (expected the {what})") from None
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise DataError(f"{path}: cannot be read as a CSV {what}: {exc}") from None
    written = {str(c).strip().upper(): str(c).strip() for c in table.columns}
    table.columns = [str(c).strip().upper() for c in table.columns]
    missing = [c for c in required if c not in table.columns]
    if missing:
        raise DataError(
            f"{path.name}: no column {', '.join(missing)}; a {what} needs "
            f"{', '.join(required)} (found: {', '.join(table.columns) or 'nothing'})"
        )
    table = table.apply(lambda col: col.astype(str).str.strip())
    table["_row"] = np.arange(len(table), dtype=np.int64) + 2
    table.attrs["as_written"] = written
    return table


def parse_dates(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Parse DD/MM/YYYY or ISO (YYYY-MM-DD) dates, cell by cell.

    Parameters
    ----------
    values : pandas.Series of str
        '' for an empty cell.

    Returns
    -------
    dates : pandas.Series
        ``datetime64`` at day resolution, ``NaT`` where empty or unparseable.
    bad : pandas.Series of bool
        True where a cell is not empty but is not a date in either layout.
    """
    iso = values.str.match(_ISO)
    uk = values.str.match(_UK)
    dates = pd.Series(pd.NaT, index=values.index, dtype="datetime64[s]")
    if iso.any():
        dates[iso] = pd.to_datetime(
            values[iso].str.slice(0, 10).str.split(r"[T ]").str[0],
            format="%Y-%m-%d",
            errors="coerce",
        ).astype("datetime64[s]")
    if uk.any():
        dates[uk] = pd.to_datetime(
            values[uk].str.split(" ").str[0], format="%d/%m/%Y", errors="coerce"
        ).astype("datetime64[s]")
    out_of_range = (dates.dt.year < _FIRST_YEAR) | (dates.dt.year > _LAST_YEAR)
    dates[out_of_range] = pd.NaT
    bad = (values != "") & dates.isna()
    return dates.dt.floor("D"), bad


def date_problem(source: str, row: int, column: str, value: str, action: str) -> Problem:
    """The standard message for a cell that is not a date."""
    return Problem(
        source,
        row,
        column,
        value,
        f"{value!r} is not a date (write DD/MM/YYYY or YYYY-MM-DD, years {_FIRST_YEAR}-{_LAST_YEAR})",
        action,
        ERROR,
        "unparseable date",
    )


def end_before_start_problem(
    source: str, row: int, column: str, end: str, start_column: str, start: str
) -> Problem:
    """The standard message for a record that ends before it starts."""
    return Problem(
        source,
        row,
        column,
        end,
        f"ends on {end} before it starts ({start_column} {start})",
        "row dropped",
        ERROR,
        "end before start",
    )


def empty_placements() -> pd.DataFrame:
    """A placements table with no rows and the right column types."""
    return pd.DataFrame(
        {
            "client": pd.Series([], dtype=str),
            "service": pd.Series([], dtype=str),
            "start": pd.Series([], dtype="datetime64[s]"),
            "end": pd.Series([], dtype="datetime64[s]"),
            "weekly_cost": pd.Series([], dtype=float),
            "source": pd.Series([], dtype=str),
            "row": pd.Series([], dtype=np.int64),
            "file": pd.Series([], dtype=str),
            "start_censored": pd.Series([], dtype=bool),
            "last_seen": pd.Series([], dtype="datetime64[s]"),
            "moved_from": pd.Series([], dtype=str),
            "moved_to": pd.Series([], dtype=str),
        }
    )


def collection_year_end(days: np.ndarray) -> int | None:
    """The last day (31 March) of the last collection year the dates reach the end of.

    A return covers a collection year, 1 April to 31 March, and a full year's
    records hold dates in its last month: the year is taken as complete when
    any date falls in its March. A stray later date (a 1 April typed into next
    year, a planned end) does not make the next year complete.

    Parameters
    ----------
    days : numpy.ndarray
        Dates as days since 1970-01-01 (NaN for missing).

    Returns
    -------
    int or None
        Days since 1970-01-01 of that 31 March; ``None`` when no date is in a March.
    """
    days = np.asarray(days, dtype=np.float64)
    days = days[np.isfinite(days)].astype(np.int64)
    months = days.astype("datetime64[D]").astype("datetime64[M]")
    march = months[months.astype(np.int64) % 12 == 2]
    if march.size == 0:
        return None
    return int((march.max() + 1).astype("datetime64[D]").astype(np.int64)) - 1


def day_numbers(dates: pd.Series) -> np.ndarray:
    """Dates as float days since 1970-01-01 (NaN where missing)."""
    values = dates.to_numpy(dtype="datetime64[D]")
    out = values.astype(np.int64).astype(np.float64)
    out[np.isnat(values)] = np.nan
    return out


def to_day(date) -> int:
    """One date (``datetime.date``, ``numpy.datetime64`` or ISO text) as days since 1970-01-01."""
    return int(np.datetime64(pd.Timestamp(date).date(), "D").astype(np.int64))


def from_day(day: float) -> np.datetime64:
    """Days since 1970-01-01 back to a ``numpy.datetime64`` date."""
    return np.datetime64(int(day), "D")


# ------------------------------------------------------------------ services


_KEY_BAD = re.compile(r"[^a-z0-9]+")


def service_key(name: str) -> str:
    """A config service name from free text: ``'Home care (external)'`` -> ``'home_care_external'``."""
    key = _KEY_BAD.sub("_", name.strip().lower()).strip("_")
    if not key or not key[0].isalpha():
        key = f"s_{key}" if key else "unnamed"
    return "service_total" if key == "total" else key


@dataclass(frozen=True)
class ServiceInfo:
    """What the config says about a service besides the fitted figures.

    Attributes
    ----------
    key : str
        Config service name.
    label : str
    department : str
    origin : str
        Where its records came from, for the config comments
        (e.g. ``'PLACE U4-U6 with PLACE_PROVIDER PR1/PR2'``).
    source : str
        The file its records came from.
    default_cost : dict or None
        A ``unit_cost`` table to use when the records give no costs, with its
        source in ``default_cost_source``.
    default_cost_source : str
    children : bool
        From SSDA903 episodes: children looked after, whose moves between
        services and ages (from the header's dates of birth) can be fitted.
    """

    key: str
    label: str
    department: str
    origin: str
    source: str
    default_cost: dict | None = None
    default_cost_source: str = ""
    children: bool = False


@dataclass
class Records:
    """Cleaned placement records from one or more files, ready to fit.

    Attributes
    ----------
    placements : pandas.DataFrame
        Columns :data:`PLACEMENT_COLUMNS`: ``client`` (str), ``service`` (config
        key), ``start`` and ``end`` (dates; ``end`` is NaT while open),
        ``weekly_cost`` (GBP per week, NaN when unknown), ``source`` (the file
        name, or the name of a set of yearly files stitched together),
        ``row`` and ``file`` (spreadsheet row, and its file, of the first record
        of the placement), ``start_censored`` (True where the placement continues
        earlier episodes that are not in the records, so it started on or before
        ``start``), ``last_seen`` (for a placement still open in an earlier
        return whose child is in no later return: the end of that return; NaT
        otherwise), ``moved_from`` (the service a child moved from into this
        placement, when care continued, REC X1, into a change of placement, RNE
        P or B, in another service; '' for a new entry) and ``moved_to`` (the
        service the child moved to from this placement; '' otherwise).
    services : dict of str to ServiceInfo
        Services in the order they should appear in the config.
    log : ProblemLog
    observed_from : dict of str to numpy.datetime64
        By file: the first day from which its records are complete, when known
        (every placement that started on or after it is in them; placements that
        started earlier are there only if still open then). Files not listed
        have it inferred by the calibration.
    observed_how : dict of str to str
        By file in ``observed_from``: how that day is known, in words.
    ages : pandas.DataFrame or None
        ``client`` and ``dob`` from an SSDA903 header table, when one was given.
    sources : list of str
        Names of the files read.
    recorded_ends : dict of str to numpy.ndarray
        By file: end dates as recorded (days since 1970-01-01), before cleaning
        changed any; they show which period an extract covers.
    """

    placements: pd.DataFrame
    services: dict[str, ServiceInfo]
    log: ProblemLog
    observed_from: dict[str, np.datetime64] = field(default_factory=dict)
    ages: pd.DataFrame | None = None
    observed_how: dict[str, str] = field(default_factory=dict)
    sources: list[str] = field(default_factory=list)
    recorded_ends: dict[str, np.ndarray] = field(default_factory=dict)

    def __add__(self, other: Records) -> Records:
        """Records of two inputs together (service names must not clash)."""
        clash = sorted(set(self.services) & set(other.services))
        if clash:
            raise DataError(
                f"service {clash[0]!r} comes from both {', '.join(self.sources)} and "
                f"{', '.join(other.sources)}: rename it in one of them (or in the mapping file)"
            )
        ages = [a for a in (self.ages, other.ages) if a is not None]
        log = ProblemLog(
            self.log.problems + other.log.problems,
            self.log.notes + other.log.notes,
            {**self.log.columns, **other.log.columns},
        )
        return Records(
            placements=pd.concat([self.placements, other.placements], ignore_index=True),
            services={**self.services, **other.services},
            log=log,
            observed_from={**self.observed_from, **other.observed_from},
            ages=pd.concat(ages, ignore_index=True) if ages else None,
            sources=self.sources + other.sources,
            recorded_ends={**self.recorded_ends, **other.recorded_ends},
            observed_how={**self.observed_how, **other.observed_how},
        )
