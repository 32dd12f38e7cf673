"""Reading a council's own files named by a config: a caseload snapshot and actuals to date.

Both are small CSV files. Their rows are read when the config is loaded and kept
inside the config, so the resolved config saved with every run reproduces it even
if the files later change. Every problem names the file, the row, the column (as
the file writes it), the value and what is allowed; all problems in a file are
reported together. Rows are numbered as a spreadsheet numbers them: the header
is row 1.

Nothing is guessed: a number must be unambiguous (``1,234.50`` and ``1234.5``
are read; ``1.234,50`` and ``328,50`` are refused), and a date written with
slashes is read day-first or month-first only when the file itself settles which
(a first field above 12 means day-first, a second above 12 month-first).
Checks against the rest of the config (which services exist, the as-of date)
are in :mod:`simulator.config.checks`.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

SNAPSHOT_COLUMNS = ("service", "start_date", "weekly_cost_gbp", "planned_end_date")
ACTUALS_COLUMNS = ("service", "month", "net_spend_gbp", "caseload")
_REQUIRED = {
    "snapshot": ("service", "start_date"),
    "actuals": ("service", "month", "net_spend_gbp"),
}
#: Columns read as dates (the date order is settled over all of them together).
_DATE_COLUMNS = {"snapshot": ("start_date", "planned_end_date"), "actuals": ("month",)}

#: A case file larger than this is refused before it is read.
MAX_FILE_BYTES = 50 * 1024 * 1024
#: Most rows a file may have (a snapshot: one per open placement).
MAX_ROWS = {"snapshot": 1_000_000, "actuals": 12_000}
#: Largest amount in GBP (a month's spend or a weekly cost) and weekly cost.
MAX_GBP = 1e11
MAX_WEEKLY_GBP = 1_000_000
MAX_CASELOAD = 1_000_000
#: Dates outside these are typing mistakes (1066 for 2016), not placements.
EARLIEST, LATEST = dt.date(1900, 1, 1), dt.date(2100, 12, 31)

_MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ],
        start=1,
    )
    for name in names
}
MONTH_FORMATS = (
    "YYYY-MM (2024-04), Mon-YY (Apr-24) or P1 to P12 (periods of the as-of financial "
    "year, P1 = April)"
)
DATE_FORMATS = "YYYY-MM-DD or DD/MM/YYYY"

_ISO_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$", re.ASCII)
_WITH_TIME = re.compile(r"^\d{4}-\d{1,2}-\d{1,2}[T ]\d", re.ASCII)
_SLASH_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$", re.ASCII)
_ISO_MONTH = re.compile(r"^(\d{4})-(\d{2})$", re.ASCII)
_SHORT_ISO_MONTH = re.compile(r"^(\d{4})-(\d)$", re.ASCII)
_NAMED_MONTH = re.compile(r"^([A-Za-z]{3,9})[-\s]?(\d{2}|\d{4})$", re.ASCII)
_PERIOD = re.compile(r"^[Pp](?:eriod\s*)?0?(\d{1,2})$", re.ASCII)
_DIGITS = re.compile(r"^\d+$", re.ASCII)
# Digits with commas only between thousands, an optional decimal point and exponent.
_UNSIGNED = re.compile(r"^(?:\d{1,3}(?:,\d{3})+|\d+)?(?:\.\d*)?(?:[eE][-+]?\d+)?$", re.ASCII)


def parse_number(text: str) -> float:
    """A number as a council's spreadsheet writes it, or ``ValueError`` when it is ambiguous.

    Accepted: ``1234``, ``1234.5``, ``-1,234.50``, ``£1,234``, ``-£12``, ``1.5e6``.
    Refused: a decimal comma (``328,50``, ``1.234,50``), commas anywhere but
    between thousands, brackets for negatives, and anything else.
    """
    body = text.strip()
    sign = ""
    if body[:1] in "+-" and body:
        sign, body = body[0], body[1:]
    if body.startswith("£"):
        body = body[1:].lstrip()
        if not sign and body[:1] in ("-", "+") and body:
            sign, body = body[0], body[1:]
    if text.strip().startswith("(") and text.strip().endswith(")"):
        raise ValueError(
            f"{text!r} is not a number: write a negative amount with a minus sign, "
            f"e.g. -{text.strip()[1:-1]}"
        )
    if not body or not _UNSIGNED.match(body) or not re.match(r"^[\d,]*\.?\d", body):
        if re.match(r"^[\d.,]+$", body) and "," in body:
            raise ValueError(
                f"{text!r} is not a number that can be read one way only: write it with a "
                "decimal point, e.g. 1234.50 (a comma may only separate thousands, as in "
                "1,234.50)"
            )
        raise ValueError(f"{text!r} is not a number: write digits, e.g. 1234.50")
    return float(sign + body.replace(",", ""))


def _money(text: str, allow_negative: bool, limit: float = MAX_GBP) -> float:
    what = "an amount in GBP" if allow_negative else "an amount in GBP, > 0"
    value = parse_number(text)  # raises "... is not a number ..."
    if not math.isfinite(value) or (value <= 0 and not allow_negative) or abs(value) > limit:
        raise ValueError(f"{text!r} must be {what} (at most {limit:g})")
    return value


@dataclass
class _DateOrder:
    """Whether the file writes dates with slashes day-first or month-first.

    Settled by the file itself: a first field above 12 means day-first, a
    second field above 12 month-first. ``None`` when nothing settles it.
    """

    day_first: bool | None = None
    problem: str | None = None

    @classmethod
    def of(cls, fields: list[tuple[int, str, str]]) -> _DateOrder:
        """Settle the order from ``(row, column, text)`` of every date field of a file."""
        day_first = month_first = undecided = None
        for row, column, text in fields:
            match = _SLASH_DATE.match(text.strip())
            if not match:
                continue
            a, b = int(match.group(1)), int(match.group(2))
            if a > 12 and b <= 12:
                day_first = day_first or (row, column, text)
            elif b > 12 and a <= 12:
                month_first = month_first or (row, column, text)
            elif a != b and a <= 12 and b <= 12:
                undecided = undecided or (row, column, text)
        if day_first and month_first:
            return cls(
                None,
                f"dates are written day-first (row {day_first[0]}, column {day_first[1]}: "
                f"{day_first[2]!r}) and month-first (row {month_first[0]}, column "
                f"{month_first[1]}: {month_first[2]!r}): write every date YYYY-MM-DD",
            )
        if day_first or month_first:
            return cls(bool(day_first))
        if undecided:
            row, column, text = undecided
            a, b = (int(x) for x in _SLASH_DATE.match(text.strip()).groups()[:2])
            return cls(
                None,
                f"row {row}, column {column}: {text!r} could be {_day_name(a, b)} or "
                f"{_day_name(b, a)}, and no date in the file has a day above 12 to tell "
                "which: write the dates YYYY-MM-DD",
            )
        return cls(True)


def _day_name(day: int, month: int) -> str:
    return f"{day} {dt.date(2000, month, 1):%B}"


def _checked_date(day: dt.date, text: str) -> dt.date:
    if not EARLIEST <= day <= LATEST:
        raise ValueError(
            f"{text!r} is outside the dates allowed, {EARLIEST:%Y} to {LATEST:%Y}: check the year"
        )
    return day


def parse_date(text: str, day_first: bool | None = True) -> dt.date:
    """A date written ``YYYY-MM-DD`` or with slashes (``DD/MM/YYYY`` when ``day_first``).

    Raises ``ValueError`` saying what is wrong: not a date, a time of day given,
    a year outside 1900 to 2100, or a date with slashes when the order is unknown
    (``day_first=None``).
    """
    text = text.strip()
    iso, slash = _ISO_DATE.match(text), _SLASH_DATE.match(text)
    try:
        if iso:
            return _checked_date(dt.date(*(int(x) for x in iso.groups())), text)
        if slash and day_first is not None:
            a, b, year = (int(x) for x in slash.groups())
            day, month = (a, b) if day_first else (b, a)
            return _checked_date(dt.date(year, month, day), text)
    except ValueError as exc:
        if "outside the dates" in str(exc):
            raise
        raise ValueError(f"{text!r} is not a date: there is no such day") from None
    if _WITH_TIME.match(text):
        raise ValueError(f"{text!r} has a time of day: write the date alone, YYYY-MM-DD")
    if slash:
        raise ValueError(f"{text!r}: cannot tell the day from the month: write YYYY-MM-DD")
    raise ValueError(f"{text!r} is not a date: write {DATE_FORMATS}")


def _fy_start(day: dt.date) -> int:
    return day.year if day.month >= 4 else day.year - 1


def parse_month(text: str, as_of: dt.date | None = None, day_first: bool | None = True) -> str:
    """A month as ``YYYY-MM``, from any of the ways councils write one.

    ``YYYY-MM``, ``Mon-YY`` or ``Mon-YYYY`` (``Apr-25``, ``April 2025``), ``P1`` to
    ``P12`` (periods of the financial year of ``as_of``; P1 is April), or a date
    in the month (``YYYY-MM-DD``, or with slashes in the order ``day_first`` says).
    """
    text = text.strip()
    if match := _ISO_MONTH.match(text):
        year, month = int(match.group(1)), int(match.group(2))
    elif match := _SHORT_ISO_MONTH.match(text):
        raise ValueError(
            f"{text!r} is not a month: write the month with two digits, "
            f"{match.group(1)}-0{match.group(2)}"
        )
    elif (match := _NAMED_MONTH.match(text)) and match.group(1).lower() in _MONTHS:
        month = _MONTHS[match.group(1).lower()]
        year = int(match.group(2)) + (2000 if len(match.group(2)) == 2 else 0)
    elif match := _PERIOD.match(text):
        period = int(match.group(1))
        if not 1 <= period <= 12:
            raise ValueError(f"{text!r} is not a period: periods are P1 (April) to P12 (March)")
        if as_of is None:
            raise ValueError(
                f"{text!r} is a period of the as-of financial year, but the as-of date is not "
                "known: give actuals.as_of as a date, or write months YYYY-MM"
            )
        start = _fy_start(as_of)
        year, month = (start, period + 3) if period <= 9 else (start + 1, period - 9)
    elif _ISO_DATE.match(text) or _SLASH_DATE.match(text) or _WITH_TIME.match(text):
        try:
            return parse_date(text, day_first).strftime("%Y-%m")
        except ValueError as exc:
            raise ValueError(f"{exc} (or write the month {MONTH_FORMATS})") from None
    else:
        raise ValueError(f"{text!r} is not a month: write {MONTH_FORMATS}")
    if not 1 <= month <= 12:
        raise ValueError(
            f"{text!r} is not a month (there is no month {month}): write {MONTH_FORMATS}"
        )
    return _checked_date(dt.date(year, month, 1), text).strftime("%Y-%m")


def _normal(name: str) -> str:
    """A column name as matched: case, spaces and hyphens do not matter."""
    return re.sub(r"[\s\-]+", "_", name.strip().lower())


@dataclass
class _Table:
    """A case file's rows as ``(row number, {column: text})``, with its problems so far."""

    rows: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)  # column -> as the file writes it
    problems: list[str] = field(default_factory=list)

    def name(self, column: str) -> str:
        """The column as the file writes it."""
        return self.headers.get(column, column)


def _read_text(path: Path) -> str:
    """The file's text (UTF-8), or ``ValueError`` saying why it cannot be read."""
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        raise ValueError("no such file") from None
    except IsADirectoryError:
        raise ValueError("is a folder, not a CSV file") from None
    except PermissionError:
        raise ValueError("cannot be read: permission denied") from None
    except OSError as exc:
        raise ValueError(f"cannot be read ({exc.strerror or type(exc).__name__})") from None
    if len(raw) > MAX_FILE_BYTES:
        raise ValueError(
            f"is larger than {MAX_FILE_BYTES // 2**20} MB: is it the right file? (a snapshot of "
            "a million placements is about 40 MB)"
        )
    if b"\0" in raw:
        raise ValueError("is not a CSV text file (it holds NUL bytes): is it the right file?")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValueError(
            "is not UTF-8 text: save it as 'CSV UTF-8 (comma delimited)' from Excel"
        ) from None


def _table(path: Path, kind: str, columns: tuple[str, ...]) -> _Table:
    """Read and shape-check a case file: header, duplicated and unknown columns, row lengths."""
    table = _Table()
    try:
        text = _read_text(path)
        records = list(csv.reader(io.StringIO(text, newline="")))
    except ValueError as exc:
        table.problems.append(str(exc))
        return table
    except csv.Error as exc:
        table.problems.append(f"cannot be read as CSV: {exc}")
        return table
    while records and not any(f.strip() for f in records[-1]):
        records.pop()  # blank lines at the end
    if not records:
        table.problems.append(
            f"is empty: the {kind} file needs a header row ({', '.join(columns)})"
        )
        return table
    header = [_normal(h) for h in records[0]]
    required = _REQUIRED[kind]
    if not any(c in header for c in required):
        # Not one of ours (a system file, another report): say so without quoting it.
        table.problems.append(
            f"does not look like a {kind} file: its first row names none of the columns "
            f"{', '.join(required)} (is it the right file?)"
        )
        return table
    missing = [
        f"the {kind} file needs a column {c!r} (columns: {', '.join(columns)})"
        for c in required
        if c not in header
    ]
    if missing:  # no row can be read
        table.problems += missing
        return table
    positions: dict[str, list[int]] = {}
    for i, name in enumerate(header):
        positions.setdefault(name, []).append(i)
    duplicated = set()
    for name, where in positions.items():
        if name and len(where) > 1:
            written = " and ".join(repr(records[0][i].strip()) for i in where)
            table.problems.append(
                f"columns {' and '.join(str(i + 1) for i in where)} are both {name!r} "
                f"({written}): keep one"
            )
            duplicated.add(name)
    unknown = [records[0][i].strip() for i, h in enumerate(header) if h not in columns]
    if unknown:
        table.problems.append(f"unknown column {unknown[0]!r}; allowed: {', '.join(columns)}")
    table.headers = {h: records[0][i].strip() for i, h in enumerate(header) if h in columns}
    body = records[1:]
    if len(body) > MAX_ROWS[kind]:
        table.problems.append(f"has {len(body)} rows: at most {MAX_ROWS[kind]}")
        return table
    for n, record in enumerate(body, start=2):
        if not any(f.strip() for f in record):
            table.problems.append(f"row {n}: is blank: remove the empty row")
            continue
        if len(record) > len(header):
            table.problems.append(f"row {n}: more fields than the header has columns")
            continue
        row = {
            h: record[i].strip() if i < len(record) else ""
            for i, h in enumerate(header)
            if h in columns and h not in duplicated
        }
        table.rows.append((n, row))
    return table


def _date_order(table: _Table, kind: str) -> _DateOrder:
    fields = [
        (n, table.name(c), row[c])
        for n, row in table.rows
        for c in _DATE_COLUMNS[kind]
        if row.get(c)
    ]
    order = _DateOrder.of(fields)
    if order.problem:
        table.problems.append(order.problem)
    return order


def read_snapshot(path: Path) -> tuple[list[dict], list[str]]:
    """Read a caseload snapshot: one row per placement open on the snapshot date.

    Columns: ``service``, ``start_date``, optional ``weekly_cost_gbp`` (price-base
    prices; blank to draw one) and ``planned_end_date`` (blank when none).

    Returns
    -------
    rows : list of dict
        Ready for the config's ``snapshot.placements``; each has its file row
        number under ``"row"``, which :func:`simulator.config.load.read_named_files`
        takes out before the rows reach the config.
    problems : list of str
        ``row N, column C: value is ...``; empty when the file is good.
    """
    table = _table(path, "snapshot", SNAPSHOT_COLUMNS)
    order = _date_order(table, "snapshot")
    out = []
    for n, row in table.rows:
        item, bad = {"row": n, "service": row.get("service", "")}, False
        for column in ("service", "start_date"):
            if column in row and not row[column]:
                problem = (
                    f"row {n}, column {table.name(column)}: is empty; every placement needs one"
                )
                table.problems.append(problem)
                bad = True
        for column in ("start_date", "planned_end_date"):
            text = row.get(column, "")
            if text and order.problem is None:
                try:
                    item[column] = parse_date(text, order.day_first)
                except ValueError as exc:
                    table.problems.append(f"row {n}, column {table.name(column)}: {exc}")
                    bad = True
        if row.get("weekly_cost_gbp"):
            try:
                item["weekly_cost_gbp"] = _money(
                    row["weekly_cost_gbp"], allow_negative=False, limit=MAX_WEEKLY_GBP
                )
            except ValueError as exc:
                table.problems.append(f"row {n}, column {table.name('weekly_cost_gbp')}: {exc}")
                bad = True
        if not bad and "start_date" in item:
            out.append(item)
    return out, table.problems


def read_actuals(path: Path, as_of: dt.date | None = None) -> tuple[list[dict], list[str]]:
    """Read actual net spend by service and month (and optionally month-end caseload).

    Columns: ``service``, ``month`` (see :func:`parse_month`; ``as_of`` dates the
    periods P1 to P12), ``net_spend_gbp``, optional ``caseload``.

    Returns
    -------
    rows : list of dict
        Ready for the config's ``actuals.months``, each with its file row number
        under ``"row"``.
    problems : list of str
        Every problem of every row; a row with a bad amount but a readable service
        and month is still returned, under ``"unread"``, so that it is not also
        reported missing.
    """
    table = _table(path, "actuals", ACTUALS_COLUMNS)
    order = _date_order(table, "actuals")
    out = []
    for n, row in table.rows:
        item, bad = {"row": n, "service": row.get("service", "")}, False
        if "service" in row and not row["service"]:
            table.problems.append(f"row {n}, column {table.name('service')}: is empty")
            bad = True
        if "month" in row:
            try:
                item["month"] = parse_month(row["month"], as_of, order.day_first)
            except ValueError as exc:
                if order.problem is None or not _SLASH_DATE.match(row["month"]):
                    table.problems.append(f"row {n}, column {table.name('month')}: {exc}")
                bad = True
        if "net_spend_gbp" in row:
            try:
                item["net_spend_gbp"] = _money(row["net_spend_gbp"], allow_negative=True)
            except ValueError as exc:
                table.problems.append(f"row {n}, column {table.name('net_spend_gbp')}: {exc}")
                bad = True
        if row.get("caseload"):
            text = row["caseload"]
            if _DIGITS.match(text) and int(text) <= MAX_CASELOAD:
                item["caseload"] = int(text)
            else:
                table.problems.append(
                    f"row {n}, column {table.name('caseload')}: {text!r} must be a whole "
                    f"number >= 0 (at most {MAX_CASELOAD})"
                )
                bad = True
        if bad:
            item["unread"] = True
        out.append(item)
    return out, table.problems
