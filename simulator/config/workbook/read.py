"""Reading an input workbook into the same plain data a TOML config gives.

:func:`read_workbook` turns the sheets into the dict the TOML reader would give,
so every check of the config schema applies unchanged, and records which cell
each value came from. :func:`load_workbook_config` checks that dict and writes
every problem, the workbook's own and the schema's, against its sheet and cell
(``Services!F7``), all together.

What a workbook may hold beyond typed values, and how each is taken:

* formulas are read by the value Excel saved with them; a formula with no saved
  value (a workbook written by a program and never opened in Excel) is refused;
* merged cells and hidden rows are refused (which value is meant is unclear);
* a totals row (a label starting "Total", or a SUM formula) on the Services or
  Savings sheet is refused: the tool adds up its own totals;
* sheets whose names start with "Notes", and the sheets the template writes
  for reading ("Read me", "Uncertain figures"), are passed over; any other
  sheet is refused, so a misspelt sheet name is not silently ignored.
"""

from __future__ import annotations

import datetime as dt
import difflib
import hashlib
import re
import tomllib
import warnings
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from simulator.config.messages import ConfigError, format_loc
from simulator.config.schema import MAX_NAMED, MAX_SERVICES
from simulator.config.workbook import layout as L
from simulator.config.workbook.cells import (
    CellProblem,
    date_value,
    month_value,
    number,
    shown,
    uncertain,
    yes_no,
)

#: A workbook larger than this is refused before it is opened (a config's workbook is
#: tens of kilobytes; a large snapshot belongs in a CSV file that the workbook names).
MAX_WORKBOOK_BYTES = 5 * 1024 * 1024
#: Rows a sheet may hold, below its header.
MAX_ROWS = {
    "Services": MAX_SERVICES,
    "Inflation": MAX_NAMED,
    "Savings": MAX_SERVICES * MAX_NAMED,
    "Scenarios": MAX_NAMED * 200,
    "Snapshot": 20_000,
    "Open placements": 20_000,
    "Actuals": MAX_SERVICES * 60,
    "Forecasts": MAX_SERVICES * 2 + 1,
}
_SUM = re.compile(r"^=\s*(SUM|SUBTOTAL)\s*\(", re.I)
#: What Excel shows in a cell whose formula fails.
EXCEL_ERRORS = ("#DIV/0!", "#N/A", "#NAME?", "#NULL!", "#NUM!", "#REF!", "#VALUE!", "#SPILL!")


@dataclass
class Found:
    """What reading a workbook found.

    Attributes
    ----------
    data : dict
        The config as the TOML reader would give it (values that could be read).
    cells : dict of tuple to str
        Config field paths to where they are: ``Services!F7`` and, after a space,
        what the cell is in words (see :meth:`where`).
    problems : list of str
        The workbook's own problems, one line each, naming sheet and cell.
    bad : set of str
        Field paths whose cells could not be read (the schema's complaints about
        them are left out: they would repeat these).
    """

    data: dict = field(default_factory=dict)
    cells: dict[tuple, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    bad: set[str] = field(default_factory=set)
    _by_text: dict[str, str] | None = None

    def where(self, path: str) -> str | None:
        """Where the field at ``path`` (as messages write it) came from, if a cell gave it."""
        if self._by_text is None:  # paths written out only when a message needs them
            self._by_text = {format_loc(k): v for k, v in self.cells.items()}
        return self._by_text.get(path)


def _put(table: dict, path: tuple, value: Any) -> None:
    """Put ``value`` at ``path``; a per-year amount and an every-year one may not meet."""
    for part in path[:-1]:
        table = table.setdefault(part, {})
        if not isinstance(table, dict):
            raise CellProblem(
                "the every-year column of this row is filled in too: fill in either it or "
                "the year columns"
            )
    if isinstance(table.get(path[-1]), dict):
        raise CellProblem(
            "year columns of this row are filled in too: fill in either the every-year "
            "column or the year columns"
        )
    table[path[-1]] = value


def slug(label: str) -> str:
    """An id made from a label: ``Children's homes`` -> ``childrens_homes``."""
    text = re.sub(r"[^a-z0-9]+", "_", label.lower().replace("'", "").replace("\u2019", ""))
    text = text.strip("_")
    return text if text[:1].isalpha() else f"s_{text}" if text else ""


class _Sheet:
    """One sheet's cells: values (saved values of formulas), formulas, header columns."""

    def __init__(self, found: Found, values_ws, formulas_ws, columns: list[L.Column] | None):
        self.found, self.ws, self.name = found, values_ws, values_ws.title
        # openpyxl counts every cell to find these: counted once here, not per row
        self.last_row, self.last_col = values_ws.max_row, values_ws.max_column
        # The formulas as typed, by row and column (read in one pass of the formulas view).
        self.formulas: dict[int, dict[int, str]] = {}
        for r, values in enumerate(formulas_ws.iter_rows(values_only=True), start=1):
            for c, v in enumerate(values, start=1):
                if isinstance(v, str) and v.startswith("="):
                    self.formulas.setdefault(r, {})[c] = v
        self.last_row = max(self.last_row, max(self.formulas, default=0))
        self.col: dict[str, int] = {}  # header (normalised) -> column number
        self.columns: dict[str, L.Column] = {}
        self._refuse_merged_and_hidden()
        if columns is not None:
            self._headers(columns)

    def ref(self, row: int, col: int) -> str:
        from openpyxl.utils import get_column_letter

        quoted = f"'{self.name}'" if " " in self.name else self.name
        return f"{quoted}!{get_column_letter(col)}{row}"

    def problem(self, row: int, col: int, text: str) -> None:
        self.found.problems.append(f"{self.ref(row, col)}: {text}")

    def _refuse_merged_and_hidden(self) -> None:
        for merged in self.ws.merged_cells.ranges:
            quoted = f"'{self.name}'" if " " in self.name else self.name
            self.found.problems.append(
                f"{quoted}!{merged.coord}: merged cells: unmerge them and type the value in "
                "each cell (which row or column a merged value belongs to is unclear)"
            )
        for r, dim in self.ws.row_dimensions.items():
            if dim.hidden and r <= self.last_row and self._row_has_data(r):
                self.found.problems.append(
                    f"{self.ref(r, 1)}: row {r} of {self.name} is hidden: unhide it (or delete "
                    "it if it is not wanted), so that what the tool reads is what you see"
                )

    def _row(self, r: int) -> tuple:
        """The values (saved values of formulas) of row ``r``."""
        found = self.ws.iter_rows(min_row=r, max_row=r, max_col=self.last_col, values_only=True)
        return next(found, ())

    def _row_has_data(self, r: int) -> bool:
        return r in self.formulas or any(v is not None for v in self._row(r))

    def _headers(self, columns: list[L.Column]) -> None:
        wanted = {L.normal(c.header): c for c in columns}
        for cell in self.ws[1] if self.last_row >= 1 else []:
            if cell.value is None:
                if self._column_has_data(cell.column):
                    self.problem(1, cell.column, "this column has values but no header: add one")
                continue
            key = L.normal(cell.value)
            column = wanted.get(key) or self._year_column(key, str(cell.value).strip())
            if column is None:
                near = difflib.get_close_matches(key, list(wanted), n=1)
                hint = f" (did you mean {wanted[near[0]].header!r}?)" if near else ""
                self.problem(
                    1,
                    cell.column,
                    f"{shown(cell.value)} is not a column of the {self.name} sheet{hint}; its "
                    f"columns are: {', '.join(c.header for c in columns)}",
                )
            elif key in self.col:
                self.problem(1, cell.column, f"a second {shown(cell.value)} column")
            else:
                self.col[key], self.columns[key] = cell.column, column

    @staticmethod
    def _year_column(key: str, header: str) -> L.Column | None:
        """A per-year column for a year the writer did not list (the reader takes any year)."""
        for stem, path, owner, figure in (
            ("budget", ("budget_gbp",), None, None),
            ("target", ("target_gbp",), None, None),
            ("uplift april", ("by_year",), "factor", "uplift"),
            ("shock", ("by_year",), "demand", "shock"),
        ):
            year = L.year_of(key, stem)
            if year is not None:
                if owner is not None:
                    column = L.uncertain_column(header, owner, figure)
                    return replace(column, path=(*path, year))
                return L.Column(header, (*path, year), "number", "")
        return None

    def _column_has_data(self, col: int) -> bool:
        return any(
            self.ws.cell(row=r, column=col).value is not None or col in self.formulas.get(r, {})
            for r in range(2, self.last_row + 1)
        )

    def data_rows(self) -> list[int]:
        """Numbers of the rows below the header holding anything."""
        most = MAX_ROWS.get(self.name, 1000)
        last = self.last_row
        if last - 1 > most * 2 + 1000:  # far too many to look at one by one
            self.found.problems.append(
                f"{self.name}: {last - 1:,} rows below the header: at most {most:,} are "
                f"allowed on this sheet"
            )
            return []
        every = self.ws.iter_rows(min_row=2, max_row=last, max_col=self.last_col, values_only=True)
        rows = [
            r
            for r, values in enumerate(every, start=2)
            if r in self.formulas or any(v is not None for v in values)
        ]
        if len(rows) > most:
            self.problem(
                rows[most], 1, f"{len(rows):,} rows: at most {most:,} are allowed on this sheet"
            )
            return []
        return rows

    def raw(self, row: int, col: int) -> Any:
        """A cell's value: what was typed, or the saved value of its formula.

        Raises
        ------
        CellProblem
            A formula with no saved value.
        """
        formula = self.formulas.get(row, {}).get(col)
        value = self.ws.cell(row=row, column=col).value
        if isinstance(formula, str) and formula.startswith("=") and value is None:
            raise CellProblem(
                f"holds the formula {shown(formula)} with no saved value: open the workbook in "
                "Excel and save it (the value is then stored with the formula), or type the value"
            )
        if isinstance(value, str):
            value = value.strip()
            if value == "":
                return None
            if value in EXCEL_ERRORS:
                raise CellProblem(
                    f"holds the Excel error {value}"
                    + (f" (from {shown(formula)})" if formula else "")
                    + ": correct the cell so it holds a value"
                )
        return value

    def is_sum(self, row: int) -> bool:
        """Whether a row holds a SUM or SUBTOTAL formula (a totals row)."""
        return any(_SUM.match(v) for v in self.formulas.get(row, {}).values())

    def get(self, row: int, header: str) -> tuple[Any, int | None]:
        """The raw value under ``header`` in ``row`` and its column (``None`` when absent)."""
        col = self.col.get(L.normal(header))
        if col is None:
            return None, None
        try:
            return self.raw(row, col), col
        except CellProblem as exc:  # a formula with no saved value: said here, read as blank
            self.problem(row, col, f"{self.columns[L.normal(header)].header}: {exc}")
            return None, col


def _parse(column: L.Column, raw: Any) -> Any:
    """A cell's raw value as the config holds it, by the column's kind."""
    kind = column.kind
    if kind == "uncertain":
        return uncertain(raw)
    if kind in ("number", "whole"):
        return number(raw, whole=kind == "whole")
    if kind == "date":
        return date_value(raw)
    if kind == "bool":
        return yes_no(raw)
    if kind == "weeks":
        return [] if isinstance(raw, str) and raw.strip().lower() == "none" else number(raw)
    if kind in ("text", "choice", "service"):
        if isinstance(raw, dt.datetime | dt.date):
            raise CellProblem(
                f"Excel holds {shown(raw)} as a date: type it as text (start it with an "
                "apostrophe, e.g. '2024/25)"
            )
        if isinstance(raw, bool) or not isinstance(raw, str | int | float):
            raise CellProblem(f"{shown(raw)} must be text")
        text = str(raw) if not isinstance(raw, float) or not raw.is_integer() else str(int(raw))
        if kind == "choice" and column.choices:
            match = next((c for c in column.choices if c.lower() == text.lower()), None)
            if match is None:
                raise CellProblem(f"{shown(raw)}: choose one of {', '.join(column.choices)}")
            return match
        return text
    if kind == "numbers":
        parts = str(raw).split(",") if isinstance(raw, str) else [raw]
        return [number(p) for p in parts]
    if kind == "weights":
        if str(raw).strip().lower() == "none":
            return {}
        out: dict[str, float] = {}
        for part in str(raw).split(","):
            name, eq, weight = part.partition("=")
            if not eq or not name.strip():
                raise CellProblem(
                    f"{shown(raw)}: write each factor and its weight like nlw=0.7, cpi=0.3"
                )
            out[name.strip()] = number(weight)
        return out
    raise AssertionError(kind)


class _Reader:
    """Reads the sheets of one workbook into a :class:`Found`."""

    def __init__(self, values_wb, formulas_wb):
        self.found = Found()
        self.vwb, self.fwb = values_wb, formulas_wb
        self.ids: dict[str, str] = {}  # services: label or id (lower case) -> id
        self.shown: dict[str, str] = {}  # label or id (lower case) -> as the Services sheet has it

    # -------------------------------------------------------------- helpers

    def sheet(self, name: str, columns: list[L.Column] | None) -> _Sheet | None:
        if name not in self.vwb.sheetnames:
            return None
        return _Sheet(self.found, self.vwb[name], self.fwb[name], columns)

    def cell(self, sheet: _Sheet, row: int, column: L.Column, path: tuple, what: str) -> Any:
        """Read one cell into the config at ``path`` (nothing when blank); record where."""
        col = sheet.col.get(L.normal(column.header))
        if col is None:
            return None
        said = column.header if what == column.header else f"{what}, {column.header}"
        self.found.cells[path] = f"{sheet.ref(row, col)} ({said})"
        try:
            raw = sheet.raw(row, col)
            if raw is None:
                return None
            value = self.service(raw) if column.kind == "service" else _parse(column, raw)
            _put(self.found.data, path, value)
        except CellProblem as exc:
            sheet.problem(row, col, f"{column.header}: {exc}")
            self.found.bad.add(format_loc(path))
            return None
        return value

    def service(self, raw: Any) -> str:
        """A service named by its label or id, as its id."""
        text = str(raw).strip()
        key = self.ids.get(text.lower()) or self.ids.get(slug(text))
        if key is None:
            near = difflib.get_close_matches(text.lower(), list(self.shown), n=1, cutoff=0.6)
            hint = f" (did you mean {self.shown[near[0]]!r}?)" if near else ""
            raise CellProblem(
                f"{shown(raw)} is not a service on the Services sheet{hint}: give its label or id"
            )
        return key

    def _row_where(self, sheet: _Sheet, row: int, path: tuple, what: str) -> None:
        self.found.cells.setdefault(path, f"{sheet.ref(row, 1)} ({what})")

    # -------------------------------------------------------------- sheets

    def read(self) -> Found:
        self._sheet_names()
        self.council()
        self.services()
        self.inflation()
        self.savings()
        self.moves()
        self.scenarios()
        self.snapshot()
        self.open_placements()
        self.actuals()
        self.forecasts()
        self.fwb.close()  # a read-only workbook holds its file open until closed
        return self.found

    def _sheet_names(self) -> None:
        names = self.vwb.sheetnames
        for name in names:
            if name in L.SHEETS and self.vwb[name].sheet_state != "visible":
                self.found.problems.append(
                    f"sheet {name!r} is hidden: unhide it (right-click a sheet tab > Unhide), so "
                    "that what the tool reads is what you see"
                )
            if name in L.SHEETS or name in L.READ_ONLY_SHEETS or name.lower().startswith("notes"):
                continue
            near = difflib.get_close_matches(name, L.SHEETS, n=1)
            hint = f" (did you mean {near[0]!r}?)" if near else ""
            self.found.problems.append(
                f"sheet {name!r} is not one the tool reads{hint}: its sheets are "
                f"{', '.join(L.SHEETS)}; to keep notes in the workbook, name the sheet "
                "starting with 'Notes'"
            )
        for name in L.REQUIRED_SHEETS:
            if name not in names:
                self.found.problems.append(f"the workbook has no {name} sheet: it is required")

    def council(self) -> None:
        sheet = self.sheet("Council", None)
        if sheet is None:
            return
        rows = {L.normal(c.header): c for c in L.COUNCIL_ROWS}
        seen: set[str] = set()
        for r in range(1, sheet.last_row + 1):
            label = sheet.ws.cell(row=r, column=1).value
            if label is None or (r == 1 and L.normal(label) == "field"):
                if label is None and sheet._row_has_data(r):
                    sheet.problem(r, 1, "a value with no field name in column A")
                continue
            key = L.normal(label)
            column = rows.get(key)
            if column is None:
                near = difflib.get_close_matches(key, list(rows), n=1)
                hint = f" (did you mean {rows[near[0]].header!r}?)" if near else ""
                sheet.problem(
                    r,
                    1,
                    f"{shown(label)} is not a field of the Council sheet{hint}; its fields are: "
                    + ", ".join(c.header for c in L.COUNCIL_ROWS),
                )
                continue
            if key in seen:
                sheet.problem(r, 1, f"{column.header} is given twice")
                continue
            seen.add(key)
            sheet.col = {L.normal(column.header): 2}
            self.cell(sheet, r, column, column.path, column.header)
            # "council: is required but missing" names the section: its first row answers
            self.found.cells.setdefault(column.path[:1], f"{sheet.ref(r, 2)} ({label})")

    def services(self) -> None:
        sheet = self.sheet("Services", self._service_columns())
        if sheet is None:
            return
        rows = sheet.data_rows()
        keys: dict[str, int] = {}
        for r in rows:
            label_raw, _ = sheet.get(r, "Service")
            id_raw, id_col = sheet.get(r, "Id")
            if self._totals_row(sheet, r, label_raw if label_raw is not None else id_raw):
                continue
            key = id_raw if isinstance(id_raw, str) else None
            if key is None and isinstance(label_raw, str):
                key = slug(label_raw)
            if not key:
                sheet.problem(r, id_col or 1, "give the service an Id or a Service label")
                continue
            if key in keys:
                sheet.problem(
                    r,
                    id_col or 1,
                    f"a second service with id {key!r} (the first is in row "
                    f"{keys[key]}): ids must differ",
                )
                continue
            keys[key] = r
            what = label_raw if isinstance(label_raw, str) else key
            self.found.data.setdefault("services", {})[key] = {}
            self._row_where(sheet, r, ("services", key), str(what))
            self.ids[key.lower()] = key
            self.shown[key.lower()] = key
            if isinstance(label_raw, str):
                self.ids.setdefault(label_raw.lower(), key)
                self.shown.setdefault(label_raw.lower(), label_raw)
                self.ids.setdefault(slug(label_raw), key)
            for column in sheet.columns.values():
                if column.path == ("id",):
                    continue
                self.cell(sheet, r, column, ("services", key, *column.path), str(what))

    def _service_columns(self) -> list[L.Column]:
        from simulator.config.workbook.write import service_columns

        return service_columns([])

    def _totals_row(self, sheet: _Sheet, r: int, label: Any) -> bool:
        text = str(label).strip().lower() if label is not None else ""
        if text.startswith("total") or sheet.is_sum(r):
            sheet.problem(
                r,
                1,
                "this looks like a totals row: remove it (the tool adds up services, "
                "departments and the total itself)",
            )
            return True
        return False

    def inflation(self) -> None:
        self.factors("Inflation", L.INFLATION_HEAD)
        if "Demand" in self.vwb.sheetnames:
            self.factors("Demand", L.demand_head())

    def factors(self, name: str, head) -> None:
        """A shared factor sheet (Inflation or Demand) into its config section."""
        section = L.FACTOR_SHEETS[name][0]
        sheet = self.sheet(name, list(head))
        if sheet is None:
            return
        for r in sheet.data_rows():
            key, col = sheet.get(r, "Id")
            if not isinstance(key, str):
                sheet.problem(r, col or 1, f"Id: {shown(key)}: give the factor a short name")
                continue
            factors = self.found.data.setdefault(section, {}).setdefault("factors", {})
            if key in factors:
                sheet.problem(r, col, f"a second factor {key!r}")
                continue
            factors[key] = {}
            self._row_where(sheet, r, (section, "factors", key), key)
            for column in sheet.columns.values():
                if column.path != ("id",):
                    self.cell(sheet, r, column, (section, "factors", key, *column.path), key)

    def savings(self) -> None:
        every = L.Column(L.target_header(None), ("target_gbp",), "number", "")
        sheet = self.sheet("Savings", [*L.SAVINGS_HEAD, every, *L.SAVINGS_TAIL])
        if sheet is None:
            return
        for r in sheet.data_rows():
            label, _ = sheet.get(r, "Programme")
            if self._totals_row(sheet, r, label):
                continue
            try:
                raw, col = sheet.get(r, "Service")
                key = self.service(raw) if raw is not None else None
            except CellProblem as exc:
                sheet.problem(r, col, f"Service: {exc}")
                continue
            if key is None:
                sheet.problem(r, col or 1, "Service: say which service the programme belongs to")
                continue
            pid, id_col = sheet.get(r, "Id")
            pid = pid if isinstance(pid, str) else slug(label) if isinstance(label, str) else ""
            if not pid:
                sheet.problem(r, id_col or 1, "give the programme an Id or a name")
                continue
            programmes = self.found.data["services"][key].setdefault("savings", {})
            if pid in programmes:
                sheet.problem(r, id_col or 1, f"a second programme {pid!r} of {key}")
                continue
            programmes[pid] = {}
            what = label if isinstance(label, str) else pid
            self._row_where(sheet, r, ("services", key, "savings", pid), what)
            for column in sheet.columns.values():
                if column.path not in (("id",), ("service",)):
                    path = ("services", key, "savings", pid, *column.path)
                    self.cell(sheet, r, column, path, what)

    def moves(self) -> None:
        """The Moves sheet into each service's ``moves``, keyed by the service moved to."""
        sheet = self.sheet("Moves", list(L.MOVES_COLUMNS))
        if sheet is None:
            return
        for r in sheet.data_rows():
            ends: dict[str, str] = {}
            for header in ("Service", "Moves to"):
                try:
                    raw, col = sheet.get(r, header)
                    if raw is None:
                        sheet.problem(r, col or 1, f"{header}: name the service")
                    else:
                        ends[header] = self.service(raw)
                except CellProblem as exc:
                    sheet.problem(r, col or 1, f"{header}: {exc}")
            if len(ends) < 2:
                continue
            key, to = ends["Service"], ends["Moves to"]
            moves = self.found.data["services"][key].setdefault("moves", {})
            if to in moves:
                sheet.problem(r, 1, f"a second move from {key} to {to}")
                continue
            moves[to] = {}
            self._row_where(sheet, r, ("services", key, "moves", to), f"{key} to {to}")
            column = L.MOVES_COLUMNS[2]
            path = ("services", key, "moves", to, *column.path)
            self.cell(sheet, r, column, path, f"{key} to {to}")

    def scenarios(self) -> None:
        sheet = self.sheet("Scenarios", list(L.SCENARIO_COLUMNS))
        if sheet is None:
            return
        scenarios: dict[str, dict] = {}
        for r in sheet.data_rows():
            name, col = sheet.get(r, "Scenario")
            if not isinstance(name, str):
                sheet.problem(r, col or 1, f"Scenario: {shown(name)}: give the scenario's name")
                continue
            scenario = scenarios.setdefault(name, {})
            self._row_where(sheet, r, ("scenarios", name), name)
            description, dcol = sheet.get(r, "Description")
            if description is not None:
                if "description" in scenario and scenario["description"] != description:
                    sheet.problem(r, dcol, f"a second, different description of {name!r}")
                scenario["description"] = str(description)
            path_text, pcol = sheet.get(r, "Change")
            value, vcol = sheet.get(r, "New value")
            if path_text is None and value is None:
                continue
            try:
                path = _key_path(path_text)
            except CellProblem as exc:
                sheet.problem(r, pcol or 1, f"Change: {exc}")
                continue
            try:
                parsed = _change_value(value)
            except CellProblem as exc:
                sheet.problem(r, vcol or 1, f"New value: {exc}")
                continue
            changes = scenario.setdefault("changes", {})
            self.found.cells[("scenarios", name, "changes", *path)] = (
                f"{sheet.ref(r, vcol or 1)} ({name}, New value)"
            )
            if not _merge(changes, path, parsed):
                sheet.problem(r, pcol, f"Change: {path_text!r} is changed twice in {name!r}")
        if scenarios:
            self.found.data["scenarios"] = scenarios

    def _table_rows(self, name: str, columns, section: tuple, key: str, what: str) -> None:
        """Rows of a Snapshot or Actuals sheet into the list at ``section + (key,)``."""
        sheet = self.sheet(name, list(columns))
        if sheet is None:
            return
        rows = []
        for r in sheet.data_rows():
            i = len(rows)
            rows.append({})
            self._row_where(sheet, r, (*section, key, i), f"{what} row {r}")
            for column in sheet.columns.values():
                self._row_cell(sheet, r, column, rows[-1], (*section, key, i))
        if rows:
            part = self.found.data.setdefault(section[0], {})
            part[key] = rows

    def _row_cell(self, sheet: _Sheet, r: int, column: L.Column, row: dict, path: tuple) -> None:
        col = sheet.col[L.normal(column.header)]
        field_name = column.path[0]
        self.found.cells[(*path, field_name)] = (
            f"{sheet.ref(r, col)} ({sheet.name} row {r}, {column.header})"
        )
        try:
            raw = sheet.raw(r, col)
            if raw is None:
                return
            if column.kind == "service":
                row[field_name] = self.service(raw)
            elif column.kind == "month":
                row[field_name] = month_value(raw, self._actuals_as_of())
            else:
                row[field_name] = _parse(column, raw)
        except CellProblem as exc:
            sheet.problem(r, col, f"{column.header}: {exc}")
            self.found.bad.add(format_loc(path))

    def _actuals_as_of(self) -> dt.date | None:
        """The actuals' as-of date (which dates the periods P1 to P12), when given."""
        as_of = self.found.data.get("actuals", {}).get("as_of")
        return as_of if isinstance(as_of, dt.date) else None

    def snapshot(self) -> None:
        self._table_rows("Snapshot", L.SNAPSHOT_COLUMNS, ("snapshot",), "placements", "Snapshot")

    def actuals(self) -> None:
        self._table_rows("Actuals", L.ACTUALS_COLUMNS, ("actuals",), "months", "Actuals")

    def open_placements(self) -> None:
        sheet = self.sheet("Open placements", list(L.OPEN_COLUMNS))
        if sheet is None:
            return
        by_service: dict[str, list[dict]] = {}
        for r in sheet.data_rows():
            row: dict = {}
            for column in sheet.columns.values():
                self._row_cell(sheet, r, column, row, ("open placements", r))
            if "service" in row:
                by_service.setdefault(row["service"], []).append(row)
                self._row_where(
                    sheet, r, ("services", row["service"], "caseload"), "Open placements"
                )
        for key, rows in by_service.items():
            caseload = self.found.data["services"][key].setdefault("caseload", {})
            if "elapsed_weeks" in caseload:
                where = self.found.cells.get(("services", key, "caseload"), "")
                self.found.problems.append(
                    f"{where.split(' ')[0]}: {key}: the Services sheet gives Elapsed weeks and the "
                    "Open placements sheet lists placements: give one or the other"
                )
                continue
            if any("elapsed_weeks" in x for x in rows):
                caseload["elapsed_weeks"] = [x.get("elapsed_weeks") for x in rows]
            if any("weekly_cost_gbp" in x for x in rows):
                caseload["weekly_cost_gbp"] = [x.get("weekly_cost_gbp") for x in rows]

    def forecasts(self) -> None:
        sheet = self.sheet("Forecasts", list(L.FORECAST_COLUMNS))
        if sheet is None:
            return
        for r in sheet.data_rows():
            row: dict = {}
            for column in sheet.columns.values():
                self._row_cell(sheet, r, column, row, ("forecasts", r))
            if "row" in row and "value" in row:
                name = self.ids.get(row["row"].lower(), row["row"])
                table = self.found.data.setdefault("actuals", {})
                table.setdefault("forecast_overspend_gbp", {})[name] = row["value"]
                self.found.cells[("actuals", "forecast_overspend_gbp", name)] = (
                    f"{sheet.ref(r, 1)} (Forecasts row {r})"
                )


def _key_path(text: Any) -> tuple[str, ...]:
    """A scenario change's dotted field path, read as TOML reads a dotted key."""
    if not isinstance(text, str):
        raise CellProblem(f"{shown(text)}: give the field, like services.homes.arrivals.growth")
    try:
        table = tomllib.loads(f"{text} = 0")
    except tomllib.TOMLDecodeError:
        raise CellProblem(
            f"{shown(text)} is not a field path like services.homes.arrivals.growth"
        ) from None
    path: list[str] = []
    while isinstance(table, dict) and len(table) == 1:
        ((key, table),) = table.items()
        path.append(key)
    return tuple(path)


def _change_value(raw: Any) -> Any:
    """A scenario change's value: a number, TRUE/FALSE, a distribution, ``toml:`` or text."""
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, str) and raw.startswith("toml:"):
        try:
            return tomllib.loads(f"v = {raw[5:]}")["v"]
        except tomllib.TOMLDecodeError as exc:
            raise CellProblem(f"{shown(raw)} is not a TOML value after 'toml:' ({exc})") from None
    if isinstance(raw, str):
        try:
            return uncertain(raw)
        except CellProblem:
            return raw
    if isinstance(raw, dt.datetime | dt.date):
        return date_value(raw)
    return number(raw)


def _merge(table: dict, path: tuple, value: Any) -> bool:
    """Put ``value`` at ``path`` in ``table``; ``False`` when something is there already."""
    for part in path[:-1]:
        table = table.setdefault(part, {})
        if not isinstance(table, dict):
            return False
    if path[-1] in table:
        return False
    table[path[-1]] = value
    return True


# ------------------------------------------------------------------ opening


def open_workbooks(path: Path, source: str):
    """The workbook twice: saved values (of formulas too), and formulas as typed.

    Raises
    ------
    ConfigError
        A file that is too large or not an Excel workbook.
    """
    from openpyxl import load_workbook

    size = path.stat().st_size
    if size > MAX_WORKBOOK_BYTES:
        raise ConfigError(
            source,
            [
                f"is {size / 2**20:.1f} MB: a config workbook is at most "
                f"{MAX_WORKBOOK_BYTES // 2**20} MB (a large caseload snapshot or actuals "
                "belong in a CSV file that the Council sheet names: Snapshot file, Actuals file)"
            ],
        )
    try:
        with warnings.catch_warnings():
            # openpyxl warns of Excel features it drops (extensions, odd date serials); the
            # values are read all the same, and problems with them are reported by cell
            warnings.simplefilter("ignore", UserWarning)
            values = load_workbook(path, data_only=True)
            formulas = load_workbook(path, data_only=False, read_only=True)
    except Exception as exc:  # openpyxl raises many kinds on a file that is not a workbook
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ConfigError(
            source,
            [f"cannot be read as an Excel workbook (.xlsx): {reason[:200]}"],
        ) from None
    return values, formulas


def read_workbook(path: str | Path, source: str | None = None) -> Found:
    """Read an input workbook into plain config data, with where each value came from.

    Parameters
    ----------
    path : str or pathlib.Path
        An ``.xlsx`` file written by ``overspend template`` (or laid out like one).
    source : str, optional
        The name messages use (default: the file name).

    Returns
    -------
    Found

    Raises
    ------
    ConfigError
        When the file is not a workbook the tool can open.
    """
    path = Path(path)
    values, formulas = open_workbooks(path, source or path.name)
    return _Reader(values, formulas).read()


def file_hash(path: str | Path) -> str:
    """SHA-256 of a file's bytes, hex."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# ------------------------------------------------------------------ messages


_HEAD = re.compile(r'^((?:[A-Za-z0-9_]+|"[^"]*")(?:\.(?:[A-Za-z0-9_]+|"[^"]*")|\[\d+\])*)')


def _path_of(line: str) -> str | None:
    match = _HEAD.match(line)
    return match[1] if match else None


def _within(path: str, other: str) -> bool:
    """Whether ``path`` is ``other`` or lies below it."""
    return path == other or (path.startswith(other) and path[len(other)] in ".[")


def _by_prefix(line: str, found: Found) -> str | None:
    """Where a line's field came from, matching the path as written unquoted (``services.£x``).

    For paths the message's own writer did not quote; only sections and rows
    (up to three parts) are tried.
    """
    best = None
    for key, where in found.cells.items():
        if len(key) <= 3:
            text = ".".join(map(str, key))
            rest = line[len(text) : len(text) + 1]
            if line.startswith(text) and rest in ("", ".", ":", " ", "[", "="):
                if best is None or len(text) > best[0]:
                    best = (len(text), where)
    return None if best is None else best[1]


def locate(lines: list[str], found: Found) -> list[str]:
    """Schema problems written against the workbook's cells, those about bad cells left out.

    Each line keeps the field path and message and is led by the cell (or row)
    the field came from: ``Services!F7 (Children's homes, Weekly cost (£)): services...``.
    """
    out = []
    for line in lines:
        head = _path_of(line)
        if head is not None and any(_within(head, b) or _within(b, head) for b in found.bad):
            continue
        where = None
        probe = head
        rest = line[len(head) :] if head else ""
        inner = _path_of(rest[2:]) if rest.startswith(": ") else None
        if inner is not None and found.where(f"{head}.{inner}"):  # a scenario's change
            probe = f"{head}.{inner}"
        while probe:
            where = found.where(probe)
            if where is not None:
                break
            probe = _parent(probe)
        where = where or _by_prefix(line, found)
        out.append(f"{where}: {line}" if where else line)
    return out


def _parent(path: str) -> str | None:
    """The path one level up (``a.b[3]`` -> ``a.b``; ``a.b`` -> ``a``), or ``None``."""
    match = re.match(r'^(.*)(\.(?:[A-Za-z0-9_]+|"[^"]*")|\[\d+\])$', path)
    return match[1] if match else None


def check_workbook(found: Found, source: str, base_dir: Path, allow_outside: bool = False):
    """The checked Config of what was read, or a ConfigError naming each problem's cell."""
    from simulator.config.load import config_from_dict, read_named_files

    data, files = read_named_files(found.data, base_dir, source, allow_outside)
    try:
        config = config_from_dict(data, source, files)
    except ConfigError as exc:
        raise ConfigError(
            source, found.problems + locate(exc.problems, found), exc.elsewhere
        ) from None
    if found.problems:
        raise ConfigError(source, found.problems)
    return config


def load_workbook_config(path: str | Path, allow_outside: bool = False):
    """Read and check an input workbook: a :class:`~simulator.config.schema.Config`.

    The config remembers the workbook's name and SHA-256 (see
    :func:`simulator.config.load.config_origin`), which the results record.

    Raises
    ------
    ConfigError
        Every problem, each naming its sheet and cell.
    """
    from simulator.config.load import remember_origin

    path = Path(path)
    found = read_workbook(path)
    config = check_workbook(found, path.name, path.parent, allow_outside)
    remember_origin(config, f"workbook {path.name} sha256:{file_hash(path)}")
    return config


__all__ = ["Found", "check_workbook", "load_workbook_config", "read_workbook"]
