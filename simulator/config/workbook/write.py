"""Writing a config as an input workbook a finance officer can fill in (``overspend template``).

The workbook holds the resolved config, so that reading it back gives the same
config (:func:`simulator.config.workbook.read.read_workbook`). Headers carry a
note with the figure's meaning and units; choices have dropdowns; an
"Uncertain figures" sheet says, for reading only, which distribution each
uncertain figure is drawn from.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

from simulator.config.schema import Config, as_dict
from simulator.config.workbook import layout as L
from simulator.config.workbook.cells import CellProblem, uncertain, uncertain_value

_HEADER_FILL = "DCE6F1"
_NOTE_SIZE = (110, 260)  # note box, points: wide enough to read without resizing


def _get(table: dict, path: tuple[str, ...]) -> Any:
    for part in path:
        if not isinstance(table, dict) or part not in table:
            return None
        table = table[part]
    return table


def cell_value(column: L.Column, value: Any) -> Any:
    """A config value as its cell holds it."""
    if value is None:
        return None
    if column.kind == "uncertain":
        return uncertain_value(value)
    if column.kind == "numbers":
        return ", ".join(repr(float(x)).removesuffix(".0") for x in value)
    if column.kind == "weights":
        if not value and column is L.DEMAND_WEIGHTS:
            return "none"  # given but empty, which differs from left out
        return ", ".join(f"{k}={repr(float(w)).removesuffix('.0')}" for k, w in value.items())
    if column.kind == "weeks" and isinstance(value, list):
        # a list of elapsed weeks is on the Open placements sheet, one row each
        return None if value else "none"
    return value


def _text_cell(cell, value: Any) -> None:
    """Put ``value`` in ``cell``; text is never taken for a formula."""
    cell.value = value
    if cell.data_type == "f":
        cell.data_type = "s"


def _header(ws, columns: list[L.Column]) -> None:
    from openpyxl.comments import Comment
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    for j, column in enumerate(columns, start=1):
        cell = ws.cell(row=1, column=j, value=column.header)
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor=_HEADER_FILL)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        cell.comment = Comment(column.note, "overspend", *_NOTE_SIZE)
        ws.column_dimensions[get_column_letter(j)].width = column.width
    ws.freeze_panes = "B2" if columns and columns[0].kind != "service" else "A2"


def _dropdown(ws, j: int, choices: tuple[str, ...] | list[str], strict: bool) -> None:
    """A dropdown on column ``j`` below the header (``strict``: only its values allowed)."""
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    if not choices:
        return
    letter = get_column_letter(j)
    listed = '"' + ",".join(c.replace('"', "") for c in choices) + '"'
    if len(listed) > 255:  # Excel's limit on a list typed into the validation
        return
    dv = DataValidation(type="list", formula1=listed, allow_blank=True)
    dv.showErrorMessage = strict
    dv.error = f"Choose one of: {', '.join(choices)}"
    ws.add_data_validation(dv)
    dv.add(f"{letter}2:{letter}1000")


def _table(ws, columns: list[L.Column], rows: list[list[Any]]) -> None:
    _header(ws, columns)
    for i, row in enumerate(rows, start=2):
        for j, value in enumerate(row, start=1):
            _text_cell(ws.cell(row=i, column=j), value)
    for j, column in enumerate(columns, start=1):
        if column.kind in ("number", "uncertain") and "£" in column.header:
            for (cell,) in ws.iter_rows(
                min_row=2, max_row=max(2, len(rows) + 1), min_col=j, max_col=j
            ):
                # pounds with thousands shown; an amount with pence keeps Excel's General
                if isinstance(cell.value, int | float) and float(cell.value).is_integer():
                    cell.number_format = "#,##0"
        if column.kind == "date":
            for (cell,) in ws.iter_rows(
                min_row=2, max_row=max(2, len(rows) + 1), min_col=j, max_col=j
            ):
                cell.number_format = "dd/mm/yyyy"


# ------------------------------------------------------------------ sheets


def council_sheet(wb, data: dict) -> None:
    """The Council sheet: name, horizon, price base, draws, seed, snapshot and actuals dates."""
    from openpyxl.comments import Comment
    from openpyxl.styles import Font

    ws = wb.create_sheet("Council")
    ws.append(["Field", "Value"])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for i, row in enumerate(L.COUNCIL_ROWS, start=2):
        label = ws.cell(row=i, column=1, value=row.header)
        label.comment = Comment(row.note, "overspend", *_NOTE_SIZE)
        value = cell_value(row, _get(data, row.path))
        _text_cell(ws.cell(row=i, column=2), value)
        if row.kind == "date":
            ws.cell(row=i, column=2).number_format = "dd/mm/yyyy"
        elif row.path in (("horizon", "start"), ("inflation", "price_base")):
            ws.cell(row=i, column=2).number_format = "@"  # text: Excel must not make 2024/25 a date
    ws.column_dimensions["A"].width = 32
    ws.column_dimensions["B"].width = 48


def _has_demand() -> bool:
    """Whether the schema has shared demand factors (``[demand]``, ``arrivals.demand``)."""
    from simulator.config.schema import Config

    return "demand" in Config.model_fields


def service_columns(years: list[str]) -> list[L.Column]:
    """The Services sheet's columns for a horizon of ``years``."""
    budget = [
        L.Column(
            L.budget_header(y),
            ("budget_gbp",) if y is None else ("budget_gbp", y),
            "number",
            "The line's net budget for the year, £"
            + (" (the same every year; or fill in the year columns)" if y is None else "."),
        )
        for y in (None, *years)
    ]
    tail = list(L.SERVICES_TAIL)
    if _has_demand():
        after = next(i for i, c in enumerate(tail) if c.path == ("arrivals", "seasonality"))
        tail.insert(after + 1, L.DEMAND_WEIGHTS)
    if _has_field("ageing"):
        tail += L.AGEING_COLUMNS
    return [*L.SERVICES_HEAD, *budget, *tail]


def _has_field(name: str) -> bool:
    """Whether the schema's services have the field ``name`` (``ageing``, ``moves``)."""
    from simulator.config.schema import Service

    return name in Service.model_fields


def moves_sheet(wb, data: dict, labels: dict[str, str]) -> None:
    """The Moves sheet: one row per move from one placement service to another."""
    ws = wb.create_sheet("Moves")
    rows = [
        [labels[key], labels.get(to, to), uncertain_value(move.get("per_year"))]
        for key, svc in data.get("services", {}).items()
        for to, move in (svc.get("moves") or {}).items()
    ]
    _table(ws, list(L.MOVES_COLUMNS), rows)


def _service_row(columns: list[L.Column], key: str, svc: dict) -> list[Any]:
    row = []
    for column in columns:
        if column.path == ("id",):
            row.append(key)
        elif column.path == ("budget_gbp",):
            money = svc.get("budget_gbp")
            row.append(money if not isinstance(money, dict) else None)
        elif column.path[0] == "budget_gbp":
            money = svc.get("budget_gbp")
            row.append(money.get(column.path[1]) if isinstance(money, dict) else None)
        else:
            row.append(cell_value(column, _get(svc, column.path)))
    return row


def services_sheet(wb, data: dict, years: list[str]) -> None:
    """The Services sheet: one row per budget line."""
    ws = wb.create_sheet("Services")
    columns = service_columns(years)
    services = data.get("services", {})
    _table(ws, columns, [_service_row(columns, k, s) for k, s in services.items()])
    departments = list(dict.fromkeys(s.get("department", "") for s in services.values()))
    for j, column in enumerate(columns, start=1):
        if column.header == "Department":
            _dropdown(ws, j, [d for d in departments if d], strict=False)
        elif column.choices:
            _dropdown(ws, j, column.choices, strict=True)


def factor_sheet(wb, name: str, data: dict, years: list[str]) -> None:
    """A shared factor sheet (Inflation or Demand): one row per factor, a column per year."""
    section, owner, figure, header, _ = L.FACTOR_SHEETS[name]
    ws = wb.create_sheet(name)
    head = L.INFLATION_HEAD if name == "Inflation" else L.demand_head()
    by_year = [L.uncertain_column(header(y), owner, figure, width=28) for y in years]
    rows = []
    for key, factor in (data.get(section) or {}).get("factors", {}).items():
        table = factor.get("by_year", {})
        rows.append(
            [key, factor.get("description"), uncertain_value(factor.get(figure))]
            + [uncertain_value(table[y]) if y in table else None for y in years]
        )
    _table(ws, [*head, *by_year], rows)


def inflation_sheet(wb, data: dict, uplift_years: list[str]) -> None:
    """The Inflation sheet: one row per shared inflation factor."""
    factor_sheet(wb, "Inflation", data, uplift_years)


def savings_sheet(wb, data: dict, years: list[str], labels: dict[str, str]) -> None:
    """The Savings sheet: one row per savings programme."""
    ws = wb.create_sheet("Savings")
    targets = [
        L.Column(
            L.target_header(y),
            ("target_gbp",),
            "number",
            "The programme's savings target, £" + (" (the same every year)" if y is None else "."),
        )
        for y in (None, *years)
    ]
    columns = [*L.SAVINGS_HEAD, *targets, *L.SAVINGS_TAIL]
    rows = []
    for key, svc in data.get("services", {}).items():
        for pid, saving in svc.get("savings", {}).items():
            target = saving.get("target_gbp")
            table = target if isinstance(target, dict) else {}
            rows.append(
                [labels[key], pid, saving.get("label") or None]
                + [None if isinstance(target, dict) else target]
                + [table.get(y) for y in years]
                + [uncertain_value(saving.get("delivery"))]
            )
    _table(ws, columns, rows)


def _flatten(changes: dict, prefix: tuple = ()) -> list[tuple[tuple, Any]]:
    """A scenario's changes as (path, value) pairs; distribution tables stay whole."""
    out = []
    for key, value in changes.items():
        path = (*prefix, key)
        if isinstance(value, dict) and value and "dist" not in value:
            out += _flatten(value, path)
        else:
            out.append((path, value))
    return out


def key_path(path: tuple) -> str:
    """A dotted TOML key, quoting parts that need it (``services.homes.budget_gbp."2024/25"``)."""
    return ".".join(
        p if re.fullmatch(r"[A-Za-z0-9_-]+", p) else json.dumps(p, ensure_ascii=False)
        for p in map(str, path)
    )


def change_value(value: Any) -> Any:
    """A scenario change's value as its cell holds it.

    A number, TRUE/FALSE or a distribution as on the other sheets; text as it
    is (unless it would read as a number); anything else as ``toml:`` and a
    TOML value.
    """
    if isinstance(value, float) and value.is_integer():
        return repr(value)  # as text: a cell would read 0.0 back as the whole number 0
    if isinstance(value, bool | int | float):
        return value
    if isinstance(value, dict) and "dist" in value:
        return uncertain_value(value)
    if isinstance(value, str) and not value.startswith("toml:"):
        try:
            uncertain(value)
        except CellProblem:
            return value
    return "toml:" + inline_toml(value)


def inline_toml(value: Any) -> str:
    """``value`` as one line of TOML (an inline table or array for containers)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, list):
        return "[" + ", ".join(inline_toml(v) for v in value) + "]"
    if isinstance(value, dict):
        items = ", ".join(f"{key_path((k,))} = {inline_toml(v)}" for k, v in value.items())
        return "{ " + items + " }" if items else "{}"
    raise TypeError(f"cannot write {type(value).__name__} as TOML")


def scenarios_sheet(wb, data: dict) -> None:
    """The Scenarios sheet: one row per change of each scenario."""
    ws = wb.create_sheet("Scenarios")
    rows = []
    for name, scenario in data.get("scenarios", {}).items():
        changes = _flatten(scenario.get("changes", {})) or [(None, None)]
        for i, (path, value) in enumerate(changes):
            description = scenario.get("description") or None
            rows.append(
                [
                    name,
                    description if i == 0 else None,
                    None if path is None else key_path(path),
                    change_value(value),
                ]
            )
    _table(ws, list(L.SCENARIO_COLUMNS), rows)


def snapshot_sheet(wb, data: dict, labels: dict[str, str]) -> None:
    """The Snapshot sheet: one row per placement open on the snapshot date."""
    ws = wb.create_sheet("Snapshot")
    rows = [
        [
            labels.get(p["service"], p["service"]),
            p["start_date"],
            p.get("weekly_cost_gbp"),
            p.get("planned_end_date"),
        ]
        for p in (data.get("snapshot") or {}).get("placements", [])
    ]
    _table(ws, list(L.SNAPSHOT_COLUMNS), rows)


def open_placements_sheet(wb, data: dict, labels: dict[str, str]) -> None:
    """The Open placements sheet: placements open at the start, listed one by one."""
    ws = wb.create_sheet("Open placements")
    rows = []
    for key, svc in data.get("services", {}).items():
        caseload = svc.get("caseload") or {}
        elapsed = caseload.get("elapsed_weeks")
        costs = caseload.get("weekly_cost_gbp")
        if isinstance(elapsed, list):
            for i, weeks in enumerate(elapsed):
                rows.append([labels[key], weeks, None if costs is None else costs[i]])
        elif costs is not None:
            rows += [[labels[key], None, c] for c in costs]
    _table(ws, list(L.OPEN_COLUMNS), rows)


def actuals_sheet(wb, data: dict, labels: dict[str, str]) -> None:
    """The Actuals sheet: actual net spend by service and month."""
    ws = wb.create_sheet("Actuals")
    rows = [
        [labels.get(m["service"], m["service"]), m["month"], m["net_spend_gbp"], m.get("caseload")]
        for m in (data.get("actuals") or {}).get("months", [])
    ]
    _table(ws, list(L.ACTUALS_COLUMNS), rows)


def forecasts_sheet(wb, data: dict) -> None:
    """The Forecasts sheet: the officer's own forecasts of overspend, by result row."""
    ws = wb.create_sheet("Forecasts")
    table = (data.get("actuals") or {}).get("forecast_overspend_gbp", {})
    _table(ws, list(L.FORECAST_COLUMNS), [[k, v] for k, v in table.items()])


def uncertain_sheet(wb, config: Config) -> None:
    """For reading: each uncertain figure, how it was typed and the distribution drawn from."""
    from simulator.config.inputs import config_inputs, group_key, input_label

    ws = wb.create_sheet("Uncertain figures")
    labels = {k: config.service_label(k) for k in config.services}
    columns = [
        L.Column("Figure", (), "text", "The uncertain figure, in words.", width=50),
        L.Column("As typed", (), "text", "How it is written on its sheet.", width=30),
        L.Column("Distribution", (), "text", "The family the tool draws it from.", width=34),
        L.Column(
            "Median and 80% range",
            (),
            "text",
            "The middle value, and the range holding the central 80% of draws.",
            width=44,
        ),
    ]
    by_parameter: dict[str, list] = {}
    for name, param, entry in config_inputs(config):
        if param.is_uncertain:
            by_parameter.setdefault(group_key(name, "parameter"), []).append((name, param, entry))
    rows = []
    for group, found in by_parameter.items():
        same = all(p == found[0][1] for _, p, _ in found)
        for name, param, entry in found[:1] if same else found:
            figure = input_label(group if same else name, labels)
            rows.append([figure, uncertain_value(param.to_toml()), *_used(param, entry)])
    _table(ws, columns, rows)
    put = ws.cell(row=len(rows) + 3, column=1)
    put.value = (
        "Written by overspend template for reading: the tool does not read this sheet "
        "(overspend validate describes the model afresh)."
    )


#: Distribution families in words, as the Uncertain figures sheet names them.
FAMILY_WORDS = {
    "pert": "PERT on low / most likely / high",
    "normal": "normal",
    "lognormal": "lognormal",
    "gamma": "gamma",
    "beta": "beta",
    "uniform": "uniform between low and high",
    "triangular": "triangular on low / most likely / high",
}


def _used(param, entry) -> list[str]:
    """The family a figure is drawn from, and its median and 80% range in its units."""
    from simulator.present.numbers import count, gbp, pct1
    from simulator.present.numbers import uncertain as in_words

    units = entry.allowed.units
    fmt = pct1 if "fraction" in units else gbp if "GBP" in units else count
    unit = "" if "fraction" in units or "GBP" in units else f" {units}"
    family = FAMILY_WORDS.get(param.dist, param.dist)
    if getattr(param, "low", None) is not None and param.dist == "normal":
        family = "normal, cut off at its bounds"
    return [family, in_words(param, fmt, unit)]


def readme_sheet(wb, source: str | None) -> None:
    """A first sheet saying how to fill in the workbook."""
    from openpyxl.styles import Font

    ws = wb.create_sheet("Read me", 0)
    lines = [
        "overspend input workbook",
        "",
        "Fill in the Council and Services sheets (and Inflation, Demand, Savings, Moves,",
        "Scenarios, Snapshot, Open placements, Actuals and Forecasts where you use them),",
        "then run:",
        "    overspend validate this.xlsx      (check it and describe the model in words)",
        "    overspend run this.xlsx           (simulate)",
        "Hover over a header to see what it means and its units.",
        "Uncertain figures: type one number, or low / most likely / high (e.g. 2% / 3% / 5%),",
        "which the tool draws from a PERT distribution on that range, or a named distribution",
        "such as normal(mean=0.03, sd=0.01) or beta(mean=0.6, sd=0.2).",
        "Money in pounds (£1,250,000 or 1250000); rates as fractions or percentages (0.03 or 3%).",
        "Sheets whose names start with Notes are yours: the tool passes over them.",
    ]
    if source:
        lines += ["", f"Written from {source} on {dt.date.today().isoformat()}."]
    for line in lines:
        ws.append([line])
    ws["A1"].font = Font(bold=True, size=14)
    ws.column_dimensions["A"].width = 100


def build_workbook(config: Config, source: str | None = None):
    """The input workbook of ``config`` (an openpyxl Workbook, not yet saved).

    Parameters
    ----------
    config : Config
        A checked config; the workbook holds its resolved values.
    source : str, optional
        Where the config came from, for the Read me sheet.
    """
    from openpyxl import Workbook

    data = as_dict(config)
    wb = Workbook()
    wb.remove(wb.active)
    years = config.fy_labels
    labels = _reference_labels(config)
    readme_sheet(wb, source)
    council_sheet(wb, data)
    services_sheet(wb, data, years)
    inflation_sheet(wb, data, config.uplift_years)
    if _has_demand():
        factor_sheet(wb, "Demand", data, years)
    savings_sheet(wb, data, years, labels)
    if _has_field("moves"):
        moves_sheet(wb, data, labels)
    scenarios_sheet(wb, data)
    snapshot_sheet(wb, data, labels)
    open_placements_sheet(wb, data, labels)
    actuals_sheet(wb, data, labels)
    forecasts_sheet(wb, data)
    uncertain_sheet(wb, config)
    wb.active = 1
    return wb


def _reference_labels(config: Config) -> dict[str, str]:
    """How other sheets name each service: its label, or its id where labels are shared."""
    labels = {k: config.service_label(k) for k in config.services}
    counts: dict[str, int] = {}
    for label in labels.values():
        counts[label.lower()] = counts.get(label.lower(), 0) + 1
    ids = set(config.services)
    return {
        k: (v if counts[v.lower()] == 1 and (v not in ids or v == k) else k)
        for k, v in labels.items()
    }


def write_workbook(config: Config, path: str | Path, source: str | None = None) -> None:
    """Save the input workbook of ``config`` at ``path`` (see :func:`build_workbook`)."""
    build_workbook(config, source).save(path)
