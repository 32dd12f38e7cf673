"""What one cell of an input workbook may hold, read into config values and written back.

A number cell takes a number, or text a finance officer types: ``£1,250,000``,
``£1.25m``, ``3%``, ``(12,000)`` for a negative amount. An uncertain figure
takes, in one cell:

* one number: the figure is known (``0.03`` or ``3%``);
* ``low / most likely / high`` (``2% / 3% / 5%``): a PERT distribution on that
  range, whose most likely value is the middle number (see ``docs/excel.md``
  for why PERT);
* a named distribution for analysts, written like a function:
  ``normal(mean=0.06, sd=0.03)``, ``beta(mean=0.6, sd=0.2)``,
  ``uniform(low=35, high=55)``; the arguments may also be given in order
  (``normal(0.06, 0.03)``).

Each reader returns the value or raises :class:`CellProblem` with what is
wrong in words; the workbook reader adds the sheet and cell.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from decimal import Decimal, InvalidOperation
from typing import Any

from simulator.config.distributions import _FAMILIES


class CellProblem(ValueError):
    """What is wrong with one cell's value, in words (without the cell's address)."""


#: Separators of ``low / most likely / high``.
_RANGE_SPLIT = re.compile(r"\s*[/;]\s*")
_CALL = re.compile(r"^\s*([A-Za-z_]+)\s*\((.*)\)\s*$", re.S)
_SCALE = {"k": Decimal(1_000), "m": Decimal(1_000_000), "bn": Decimal(1_000_000_000)}


def shown(value: Any) -> str:
    """A cell value as a message quotes it (long text cut short)."""
    if isinstance(value, dt.datetime) and value.time() == dt.time(0):
        return value.date().isoformat()
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    text = repr(value)
    return text if len(text) <= 60 else f"{text[:48]}... ({len(text)} characters)"


def _decimal(text: str) -> Decimal | None:
    """A number written as text (``£1,250,000``, ``3%``, ``(500)``, ``£1.2m``), or ``None``."""
    t = text.strip().replace("\u2212", "-").replace("_", "").replace(" ", "")
    negative = t.startswith("(") and t.endswith(")")
    if negative:
        t = t[1:-1]
    sign = -1 if t.startswith("-") else 1
    t = t.lstrip("+-")
    t = t.removeprefix("£")
    percent = t.endswith("%")
    t = t.removesuffix("%")
    scale = Decimal(1)
    for suffix, factor in _SCALE.items():
        if t.lower().endswith(suffix) and not percent:
            t, scale = t[: -len(suffix)], factor
            break
    if "," in t and not re.fullmatch(r"\d{1,3}(,\d{3})+(\.\d*)?", t):
        return None  # a decimal comma (328,50) or stray commas: not one number for certain
    t = t.replace(",", "")
    if not t or not re.fullmatch(r"[0-9.]+(e[+-]?[0-9]+)?", t, re.I):
        return None
    try:
        value = Decimal(t) * scale * sign * (-1 if negative else 1)
    except InvalidOperation:
        return None
    return value / 100 if percent else value


def number(raw: Any, whole: bool = False) -> int | float:
    """A number cell's value (a number, or text such as ``£1,250,000`` or ``3%``).

    Parameters
    ----------
    raw : Any
        The cell's value as openpyxl reads it.
    whole : bool
        A whole number is wanted (a count, a seed): ``4.0`` is read as ``4``.

    Raises
    ------
    CellProblem
        Text that is not a number, a date, TRUE/FALSE, or a fraction where a whole
        number is wanted.
    """
    if isinstance(raw, bool):
        raise CellProblem(f"{'TRUE' if raw else 'FALSE'} is not a number")
    if isinstance(raw, dt.datetime | dt.date | dt.time):
        raise CellProblem(
            f"Excel holds {shown(raw)} as a date or time: format the cell as a number "
            "(Home > Number > General) and type the number again"
        )
    if isinstance(raw, str):
        value = _decimal(raw)
        if value is None:
            raise CellProblem(f"{shown(raw)} is not a number")
        plain = re.fullmatch(r"[-+(£\s\d,_)]+", raw.strip()) is not None  # no point, %, k or m
        raw = int(value) if plain and value == value.to_integral_value() else float(value)
    if not isinstance(raw, int | float):
        raise CellProblem(f"{shown(raw)} is not a number")
    if isinstance(raw, float) and not math.isfinite(raw):
        raise CellProblem(f"{raw!r} is not a finite number")
    if whole:
        if raw != int(raw):
            raise CellProblem(f"{raw!r} must be a whole number")
        return int(raw)
    return raw


def _argument(text: str, where: str) -> float:
    try:
        return number(text)
    except CellProblem as exc:
        raise CellProblem(f"{where}: {exc}") from None


def uncertain(raw: Any) -> int | float | dict:
    """An uncertain figure's value: a number, or a distribution table as TOML writes it.

    Raises
    ------
    CellProblem
        Saying which of the three forms was meant and what is wrong with it.
    """
    if not isinstance(raw, str):
        return number(raw)
    text = raw.strip()
    call = _CALL.match(text)
    if call:
        return _named(call[1].lower(), call[2], raw)
    parts = _RANGE_SPLIT.split(text)
    if len(parts) == 3:
        low, mode, high = (_argument(p, f"in {shown(raw)}, {p!r}") for p in parts)
        return {"dist": "pert", "low": low, "mode": mode, "high": high}
    if len(parts) > 1:
        raise CellProblem(
            f"{shown(raw)}: give three numbers, low / most likely / high (e.g. 2% / 3% / 5%), "
            f"not {len(parts)}"
        )
    value = _decimal(text)
    if value is None:
        raise CellProblem(
            f"{shown(raw)} is not a number, a range low / most likely / high "
            "(e.g. 2% / 3% / 5%) or a distribution such as normal(mean=0.03, sd=0.01)"
        )
    return number(text)


def _named(name: str, body: str, raw: str) -> dict:
    """``normal(mean=0.06, sd=0.03)`` (or ``normal(0.06, 0.03)``) as a distribution table."""
    if name not in _FAMILIES:
        raise CellProblem(
            f"{shown(raw)}: {name!r} is not a known distribution: use one of {', '.join(_FAMILIES)}"
        )
    _, required, optional = _FAMILIES[name]
    table: dict[str, Any] = {"dist": name}
    args = [a.strip() for a in body.split(",")] if body.strip() else []
    for i, arg in enumerate(args):
        key, eq, value = arg.partition("=")
        if eq:
            key = key.strip().lower()
            if key not in (*required, *optional):
                raise CellProblem(
                    f"{shown(raw)}: a {name} takes {', '.join((*required, *optional))}, not {key!r}"
                )
        else:
            if i >= len(required) + len(optional):
                raise CellProblem(f"{shown(raw)}: too many numbers for a {name}")
            key, value = (*required, *optional)[i], arg
        if key in table:
            raise CellProblem(f"{shown(raw)}: {key} is given twice")
        table[key] = _argument(value, f"in {shown(raw)}, {key}")
    missing = [k for k in required if k not in table]
    if missing:
        raise CellProblem(
            f"{shown(raw)}: a {name} needs {', '.join(required)} ({', '.join(missing)} missing)"
        )
    return table


def number_text(x: float) -> str:
    """A number as text that reads back to exactly the same float (``0.06``, ``3500000``)."""
    text = repr(float(x))
    return text[:-2] if text.endswith(".0") else text


def uncertain_value(value: Any) -> Any:
    """How a config's uncertain figure is written into its cell (the inverse of :func:`uncertain`).

    A number stays a number; a PERT is written ``low / most likely / high``;
    any other distribution as ``name(key=value, ...)``.
    """
    if not isinstance(value, dict):
        return value
    if value.get("dist") == "pert" and set(value) == {"dist", "low", "mode", "high"}:
        return " / ".join(number_text(value[k]) for k in ("low", "mode", "high"))
    args = ", ".join(f"{k}={number_text(v)}" for k, v in value.items() if k != "dist")
    return f"{value['dist']}({args})"


def date_value(raw: Any) -> dt.date:
    """A date cell: an Excel date, or text ``2024-06-30`` or ``30/06/2024``.

    Raises
    ------
    CellProblem
        A time of day, a number, or text that is not such a date.
    """
    if isinstance(raw, dt.datetime):
        if raw.time() != dt.time(0):
            raise CellProblem(f"{shown(raw)} has a time of day: give a date only")
        return raw.date()
    if isinstance(raw, dt.date):
        return raw
    if isinstance(raw, str):
        text = raw.strip()
        for fmt in ("%Y-%m-%d", "%d/%m/%Y"):
            try:
                return dt.datetime.strptime(text, fmt).date()
            except ValueError:
                continue
    raise CellProblem(f"{shown(raw)} is not a date: type a date such as 30/06/2024 or 2024-06-30")


def text_value(raw: Any) -> str:
    """A text cell: numbers are refused (a label of ``4`` is a slip), text is kept as typed."""
    if isinstance(raw, str):
        return raw
    raise CellProblem(f"{shown(raw)} must be text")


def month_value(raw: Any, as_of: dt.date | None = None) -> str:
    """A month as ``YYYY-MM``, from a ledger's way of writing it.

    An Excel date gives its month; text is read as the case files read it
    (:func:`simulator.config.casefiles.parse_month`): ``2025-04``, ``Apr-25``,
    ``April 2025``, a date in the month, or ``P1`` (April) to ``P12`` (March) of
    the financial year of ``as_of``.

    Raises
    ------
    CellProblem
        Saying which forms are understood.
    """
    from simulator.config.casefiles import parse_month

    if isinstance(raw, dt.datetime | dt.date):
        return f"{raw.year:04d}-{raw.month:02d}"
    if isinstance(raw, bool) or not isinstance(raw, str | int):
        raise CellProblem(f"{shown(raw)} is not a month: write it like 2025-04 or Apr-25")
    try:
        return parse_month(str(raw), as_of)
    except ValueError as exc:
        raise CellProblem(str(exc)) from None


def yes_no(raw: Any) -> bool:
    """A TRUE/FALSE cell (also the text yes, no, true, false).

    Raises
    ------
    CellProblem
        Anything else.
    """
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower() if isinstance(raw, str) else None
    if text in ("true", "yes", "y"):
        return True
    if text in ("false", "no", "n"):
        return False
    raise CellProblem(f"{shown(raw)}: write TRUE or FALSE")
