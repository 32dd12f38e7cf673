"""Actual spend shaped like a ledger export: a workbook or CSV, months down or across.

``overspend run --actuals`` (and ``actuals.file`` in a config) take, besides the
plain CSV of :func:`simulator.config.casefiles.read_actuals`:

* an Excel workbook (``.xlsx``): its ``Actuals`` sheet, or its only sheet;
* **months across** (one row per service, a column per month): headers such as
  ``Apr-25``, ``2025-04``, ``April 2025``, ``P1`` to ``P12``, or dates;
* **months down** with a ``month`` (or ``period``) column and an amount column;
* amounts for the month, or **year to date** (cumulative within the financial
  year): a header with ``YTD``, ``year to date`` or ``cumulative`` in it, such
  as ``P3 YTD`` or ``ytd_net_spend_gbp``; the month's spend is then the
  difference from the month before;
* title rows above the header (the header is the first row naming the service
  column), a ``Total`` row (passed over: the tool adds up its own totals) and
  columns a ledger carries beside the actuals (budget, forecast, variance,
  description), which are not read;
* amounts written ``£1,250,000``, ``1250000`` or ``(12,000)`` for a credit.

Services may be named by label or id: :func:`simulator.config.load.read_named_files`
turns labels into ids, with a "did you mean" for a near miss. Every problem of
the file is reported in one pass, naming its row and column (``row 5, column
Apr-25``) or, in a workbook, its cell (``Actuals!C5``).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from simulator.config.workbook.cells import CellProblem, month_value, number, shown

#: Headers that name the service column.
SERVICE_NAMES = ("service", "service_id", "service_label", "budget_line", "line", "cost_centre")
MONTH_NAMES = ("month", "period")
MONTHLY_NAMES = ("net_spend_gbp", "net_spend", "actual", "actuals", "amount", "spend")
YTD_NAMES = ("ytd_net_spend_gbp", "ytd_net_spend", "ytd", "ytd_actual", "year_to_date")
CASELOAD_NAMES = ("caseload", "placements", "open_placements")
#: Columns a ledger export carries that are not actual spend: passed over.
PASSED_OVER = (
    "budget",
    "annual_budget",
    "full_year_budget",
    "forecast",
    "variance",
    "description",
    "notes",
    "comments",
    "total",
    "department",
)
_YTD = re.compile(r"\b(ytd|year[\s_-]*to[\s_-]*date|cumulative)\b", re.I)
_TOTAL_ROWS = ("total", "grand total", "sub-total", "subtotal", "sub total")
#: A ledger workbook larger than this is refused before it is opened.
MAX_LEDGER_BYTES = 20 * 1024 * 1024
MAX_LEDGER_ROWS = 20_000
#: Rows above the header a ledger export may have (titles, report dates).
HEADER_SEARCH = 15


def _name(header: Any) -> str:
    """A header as matched: lower case, spaces and hyphens as ``_``, ``(£)`` left out."""
    text = str(header).replace("(£)", "").replace("£", "")
    return re.sub(r"[\s\-]+", "_", text.strip().lower()).strip("_")


@dataclass
class _Grid:
    """A ledger's cells: rows of values with their row numbers, and how to name a cell."""

    rows: list[tuple[int, list[Any]]]
    sheet: str | None = None  # a workbook's sheet; None for a CSV
    problems: list[str] = field(default_factory=list)
    headers: list[Any] = field(default_factory=list)

    def where(self, row: int, col: int) -> str:
        if self.sheet is None:
            column = self.headers[col] if col < len(self.headers) else col + 1
            return f"row {row}, column {column}"
        from openpyxl.utils import get_column_letter

        quoted = f"'{self.sheet}'" if " " in self.sheet else self.sheet
        return f"{quoted}!{get_column_letter(col + 1)}{row}"


def is_ledger(path: Path) -> bool:
    """Whether an actuals file needs this reader (a workbook, months across, or year to date).

    A CSV with the plain columns (service, month, net_spend_gbp) is left to
    :func:`simulator.config.casefiles.read_actuals`.
    """
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        return True
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.reader(handle)
            first = [next(reader, []) for _ in range(HEADER_SEARCH)]
    except (OSError, UnicodeDecodeError, csv.Error):
        return False
    for i, row in enumerate(first):
        names = [_name(h) for h in row]
        if any(n in SERVICE_NAMES for n in names):
            return i > 0 or not ("net_spend_gbp" in names and "month" in names)
    return False


def _csv_grid(path: Path) -> _Grid:
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_LEDGER_BYTES + 1)
        if len(raw) > MAX_LEDGER_BYTES:
            return _Grid([], problems=[f"is over {MAX_LEDGER_BYTES // 2**20} MB: is it the file?"])
        text = raw.decode("utf-8-sig")
        records = list(csv.reader(io.StringIO(text, newline="")))
    except UnicodeDecodeError:
        return _Grid([], problems=["is not UTF-8 text: save it as 'CSV UTF-8' from Excel"])
    except (OSError, csv.Error) as exc:
        return _Grid([], problems=[f"cannot be read as CSV: {exc}"])
    rows = [(n, [c.strip() or None for c in r]) for n, r in enumerate(records, start=1)]
    return _Grid(rows)


def _workbook_grid(path: Path) -> _Grid:
    from openpyxl import load_workbook

    if path.stat().st_size > MAX_LEDGER_BYTES:
        return _Grid([], problems=[f"is over {MAX_LEDGER_BYTES // 2**20} MB: is it the file?"])
    try:
        with warnings.catch_warnings():  # features openpyxl drops: the values are read all the same
            warnings.simplefilter("ignore", UserWarning)
            wb = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds on a file that is not a workbook
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return _Grid([], problems=[f"cannot be read as an Excel workbook (.xlsx): {reason[:200]}"])
    names = wb.sheetnames
    chosen = next(
        (n for n in names if n.lower() == "actuals"), names[0] if len(names) == 1 else None
    )
    if chosen is None:
        return _Grid(
            [],
            problems=[
                f"has {len(names)} sheets ({', '.join(names)}): name the one with the actuals "
                "'Actuals'"
            ],
        )
    ws = wb[chosen]
    rows = []
    for n, values in enumerate(ws.iter_rows(values_only=True), start=1):
        if n > MAX_LEDGER_ROWS + HEADER_SEARCH:
            wb.close()
            return _Grid([], chosen, [f"{chosen}: more than {MAX_LEDGER_ROWS:,} rows"])
        rows.append((n, [v.strip() or None if isinstance(v, str) else v for v in values]))
    wb.close()
    return _Grid(rows, chosen)


@dataclass
class _Columns:
    """What each column of a ledger holds."""

    service: int | None = None
    month: int | None = None
    monthly: int | None = None
    ytd: int | None = None
    caseload: int | None = None
    across: dict[int, tuple[str, bool]] = field(default_factory=dict)  # col -> (month, ytd)


def _header_row(grid: _Grid) -> int | None:
    """Index into ``grid.rows`` of the header: the first row naming the service column."""
    for i, (_, values) in enumerate(grid.rows[:HEADER_SEARCH]):
        if any(v is not None and _name(v) in SERVICE_NAMES for v in values):
            return i
    return None


def _columns(grid: _Grid, header_row: int, values: list[Any], as_of: dt.date | None) -> _Columns:
    cols = _Columns()
    for j, header in enumerate(values):
        if header is None:
            continue
        name = _name(header)
        role = next(
            (
                attr
                for attr, names in (
                    ("service", SERVICE_NAMES),
                    ("month", MONTH_NAMES),
                    ("monthly", MONTHLY_NAMES),
                    ("ytd", YTD_NAMES),
                    ("caseload", CASELOAD_NAMES),
                )
                if name in names
            ),
            None,
        )
        if role is not None:
            if getattr(cols, role) is not None:
                grid.problems.append(f"{grid.where(header_row, j)}: a second {role} column")
            setattr(cols, role, j)
            continue
        if name in PASSED_OVER or name.startswith("total"):
            continue
        month = _month_header(header, as_of)
        if month is not None:
            cols.across[j] = month
            continue
        grid.problems.append(
            f"{grid.where(header_row, j)}: {shown(header)} is neither the service, a month "
            "(Apr-25, 2025-04, P1; with YTD for year to date), an amount (net_spend_gbp, "
            "ytd_net_spend_gbp) nor caseload: rename or remove the column"
        )
    return cols


def _month_header(header: Any, as_of: dt.date | None) -> tuple[str, bool] | None:
    """A header naming a month (``Apr-25``, ``P3 YTD``), and whether it is year to date."""
    ytd = isinstance(header, str) and bool(_YTD.search(header))
    text = _YTD.sub(" ", header).strip(" -_") if isinstance(header, str) else header
    try:
        return month_value(text, as_of), ytd
    except CellProblem:
        return None


def _amount(grid: _Grid, row: int, col: int, raw: Any) -> float | None:
    try:
        return float(number(raw))
    except CellProblem as exc:
        grid.problems.append(f"{grid.where(row, col)}: {exc}")
        return None


def _is_total(raw: Any) -> bool:
    return isinstance(raw, str) and raw.strip().lower().rstrip(":") in _TOTAL_ROWS


def _entries(grid: _Grid, cols: _Columns, body, as_of: dt.date | None) -> list[dict]:
    """One entry per service and month: its row and columns, amount, and whether year to date."""
    out = []
    for n, values in body:
        cell = values[cols.service] if cols.service < len(values) else None
        if not any(v is not None for v in values) or _is_total(cell):
            continue
        if cell is None:
            grid.problems.append(f"{grid.where(n, cols.service)}: no service on this row")
            continue
        service = str(cell)
        caseload = None
        if cols.caseload is not None and cols.caseload < len(values):
            raw = values[cols.caseload]
            if raw is not None:
                try:
                    caseload = number(raw, whole=True)
                    if caseload < 0:
                        raise CellProblem(f"{caseload} must be 0 or more")
                except CellProblem as exc:
                    grid.problems.append(f"{grid.where(n, cols.caseload)}: {exc}")
        if cols.month is not None:
            raw_month = values[cols.month] if cols.month < len(values) else None
            try:
                month = month_value(raw_month, as_of) if raw_month is not None else None
            except CellProblem as exc:
                grid.problems.append(f"{grid.where(n, cols.month)}: {exc}")
                continue
            if month is None:
                grid.problems.append(f"{grid.where(n, cols.month)}: no month on this row")
                continue
            col, ytd = (cols.ytd, True) if cols.ytd is not None else (cols.monthly, False)
            raw = values[col] if col < len(values) else None
            entry = {"row": n, "col": col, "service": service, "month": month, "ytd": ytd}
            entry["amount"] = _amount(grid, n, col, raw) if raw is not None else None
            if raw is None:
                grid.problems.append(f"{grid.where(n, col)}: no amount on this row")
            out.append(entry | ({"caseload": caseload} if caseload is not None else {}))
            continue
        for col, (month, ytd) in cols.across.items():
            raw = values[col] if col < len(values) else None
            if raw is None:
                continue  # a month not yet reported
            entry = {"row": n, "col": col, "service": service, "month": month, "ytd": ytd}
            out.append(entry | {"amount": _amount(grid, n, col, raw)})
        if caseload is not None and out and out[-1]["row"] == n:
            out[-1]["caseload"] = caseload  # the latest month's caseload
    return out


def _previous(month: str) -> str | None:
    """The month before, within the same financial year (``None`` for April)."""
    year, m = int(month[:4]), int(month[5:])
    if m == 4:
        return None
    return f"{year - 1}-12" if m == 1 else f"{year}-{m - 1:02d}"


def _monthly(grid: _Grid, entries: list[dict]) -> list[dict]:
    """Each entry's spend in its own month: year-to-date figures less the month before's."""
    ytd = {(e["service"], e["month"]): e for e in entries if e["ytd"]}
    rows = []
    for e in entries:
        row = {"row": e["row"], "service": e["service"], "month": e["month"]}
        if "caseload" in e:
            row["caseload"] = e["caseload"]
        amount = e["amount"]
        if e["ytd"] and amount is not None:
            before = _previous(e["month"])
            if before is not None:
                prior = ytd.get((e["service"], before))
                if prior is None:
                    grid.problems.append(
                        f"{grid.where(e['row'], e['col'])}: the year-to-date figure for "
                        f"{e['month']} needs the one for {before} too (its month's spend is the "
                        "difference)"
                    )
                    amount = None
                elif prior["amount"] is None:
                    amount = None  # its own problem is reported
                else:
                    amount = amount - prior["amount"]
        if amount is None:
            row["unread"] = True
        else:
            row["net_spend_gbp"] = amount
        rows.append(row)
    return rows


def read_ledger(path: Path, as_of: dt.date | None = None) -> tuple[list[dict], list[str]]:
    """Read actual spend from a ledger-shaped workbook or CSV (see the module docstring).

    Parameters
    ----------
    path : pathlib.Path
    as_of : datetime.date, optional
        The as-of date, which dates the periods P1 to P12.

    Returns
    -------
    rows : list of dict
        Ready for the config's ``actuals.months`` (service as the file names it,
        month ``YYYY-MM``, ``net_spend_gbp`` for the month, GBP, and
        ``caseload`` where given), each with its file row under ``"row"``; a
        row whose amount cannot be read is marked ``"unread"`` (so it is not
        also reported missing).
    problems : list of str
        Every problem, naming row and column (or cell).
    """
    grid = _workbook_grid(path) if path.suffix.lower() in (".xlsx", ".xlsm") else _csv_grid(path)
    if grid.problems:
        return [], grid.problems
    head = _header_row(grid)
    if head is None:
        names = ", ".join(SERVICE_NAMES)
        return [], [f"no header row naming the service column ({names}) in its first rows"]
    header_n, header = grid.rows[head]
    grid.headers = [("" if h is None else str(h)) for h in header]
    cols = _columns(grid, header_n, header, as_of)
    # Said at the header row, with the columns it has, so the user sees what was read.
    found = ", ".join(repr(h)[:40] for h in grid.headers if h)[:200] or "none"
    # A CSV's header is "row N"; a sheet's is the whole row in Excel's terms, Sheet!N:N.
    sheet = None if grid.sheet is None else grid.where(header_n, 0).split("!")[0]
    row = f"row {header_n}" if sheet is None else f"{sheet}!{header_n}:{header_n}"
    where = f"{row}: the header (columns {found})"
    if cols.month is None and not cols.across:
        grid.problems.append(
            f"{where} has no months: give a column per month (Apr-25, 2025-04, P1; with YTD "
            "for year to date) or a month column and an amount column"
        )
    elif cols.month is not None and cols.across:
        grid.problems.append(
            f"{where} gives months both down (a month column) and across: give one or the other"
        )
    elif cols.month is not None and (cols.monthly is None) == (cols.ytd is None):
        grid.problems.append(
            f"{where} needs one amount column: net_spend_gbp for each month, or "
            "ytd_net_spend_gbp for the year to date"
        )
    if grid.problems:
        return [], grid.problems
    body = grid.rows[head + 1 :]
    if len(body) > MAX_LEDGER_ROWS:
        return [], [f"has {len(body):,} rows: at most {MAX_LEDGER_ROWS:,}"]
    rows = _monthly(grid, _entries(grid, cols, body, as_of))
    return rows, grid.problems
