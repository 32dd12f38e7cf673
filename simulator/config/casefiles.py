"""Reading a council's own files named by a config: a caseload snapshot and actuals to date.

Both are small CSV files. Their rows are read when the config is loaded and kept
inside the config, so the resolved config saved with every run reproduces it even
if the files later change. Every problem names the file, the row, the column, the
value and what is allowed; all problems in a file are reported together.
"""

from __future__ import annotations

import csv
import datetime as dt
import math
from pathlib import Path

SNAPSHOT_COLUMNS = ("service", "start_date", "weekly_cost_gbp", "planned_end_date")
ACTUALS_COLUMNS = ("service", "month", "net_spend_gbp", "caseload")
_REQUIRED = {
    "snapshot": ("service", "start_date"),
    "actuals": ("service", "month", "net_spend_gbp"),
}


def parse_date(text: str) -> dt.date:
    """A date written ``YYYY-MM-DD`` or ``DD/MM/YYYY`` (as in council returns)."""
    text = text.strip()
    for fmt in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ValueError(f"{text!r} is not a date: write YYYY-MM-DD or DD/MM/YYYY")


def _parse_month(text: str) -> str:
    """A month written ``YYYY-MM`` (or any date in it); returned as ``YYYY-MM``."""
    text = text.strip()
    try:
        return dt.datetime.strptime(text, "%Y-%m").strftime("%Y-%m")
    except ValueError:
        return parse_date(text).strftime("%Y-%m")


def _money(text: str, allow_negative: bool) -> float:
    what = "an amount in GBP" if allow_negative else "an amount in GBP, > 0"
    try:
        value = float(text.replace(",", "").replace("£", "").strip())
    except ValueError:
        raise ValueError(f"{text!r} is not a number: write {what}") from None
    if not math.isfinite(value) or (value <= 0 and not allow_negative) or abs(value) > 1e11:
        raise ValueError(f"{text!r} must be {what} (at most 1e11)")
    return value


def _rows(
    path: Path, kind: str, columns: tuple[str, ...]
) -> tuple[list[tuple[int, dict]], list[str]]:
    """The file's rows as (row number, dict) pairs, and the problems with its shape."""
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            header = [h.strip() for h in (reader.fieldnames or [])]
            rows = list(reader)
    except FileNotFoundError:
        return [], ["no such file"]
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        return [], [f"cannot be read: {exc}"]
    problems = [
        f"the {kind} file needs a column {c!r} (columns: {', '.join(columns)})"
        for c in _REQUIRED[kind]
        if c not in header
    ]
    cleaned = []
    for n, row in enumerate(rows, start=2):
        if None in row:  # csv puts fields beyond the header under the key None
            problems.append(f"row {n}: more fields than the header has columns")
            continue
        cleaned.append((n, {(k or "").strip(): (v or "").strip() for k, v in row.items()}))
    rows = cleaned
    unknown = [h for h in header if h not in columns]
    if unknown:
        problems.append(f"unknown column {unknown[0]!r}; allowed: {', '.join(columns)}")
    return rows, problems


def read_snapshot(path: Path) -> tuple[list[dict], list[str]]:
    """Read a caseload snapshot: one row per placement open on the snapshot date.

    Columns: ``service``, ``start_date``, optional ``weekly_cost_gbp`` (price-base
    prices; blank to draw one) and ``planned_end_date`` (blank when none).

    Returns
    -------
    rows : list of dict
        Ready for the config's ``snapshot.placements``.
    problems : list of str
        ``row N, column C = value: what is allowed``; empty when the file is good.
    """
    rows, problems = _rows(path, "snapshot", SNAPSHOT_COLUMNS)
    out = []
    for n, row in rows:
        item, bad = {"service": row.get("service", "")}, False
        for column in ("service", "start_date"):
            if not row.get(column):
                problems.append(f"row {n}, column {column}: is empty; every placement needs one")
                bad = True
        for column, parse in (("start_date", parse_date), ("planned_end_date", parse_date)):
            text = row.get(column, "")
            if text:
                try:
                    item[column] = parse(text)
                except ValueError as exc:
                    problems.append(f"row {n}, column {column}: {exc}")
                    bad = True
        if row.get("weekly_cost_gbp"):
            try:
                item["weekly_cost_gbp"] = _money(row["weekly_cost_gbp"], allow_negative=False)
            except ValueError as exc:
                problems.append(f"row {n}, column weekly_cost_gbp: {exc}")
                bad = True
        if not bad:
            out.append(item)
    return out, problems


def read_actuals(path: Path) -> tuple[list[dict], list[str]]:
    """Read actual net spend by service and month (and optionally month-end caseload).

    Columns: ``service``, ``month`` (``YYYY-MM``), ``net_spend_gbp``, optional ``caseload``.
    """
    rows, problems = _rows(path, "actuals", ACTUALS_COLUMNS)
    out = []
    for n, row in rows:
        try:
            item = {"service": row.get("service", ""), "month": _parse_month(row.get("month", ""))}
        except ValueError as exc:
            problems.append(f"row {n}, column month: {exc}")
            continue
        try:
            item["net_spend_gbp"] = _money(row.get("net_spend_gbp", ""), allow_negative=True)
        except ValueError as exc:
            problems.append(f"row {n}, column net_spend_gbp: {exc}")
            continue
        if row.get("caseload"):
            try:
                item["caseload"] = int(row["caseload"])
                if item["caseload"] < 0:
                    raise ValueError
            except ValueError:
                problems.append(
                    f"row {n}, column caseload: {row['caseload']!r} must be a whole number >= 0"
                )
                continue
        out.append(item)
    return out, problems
