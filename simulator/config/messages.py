"""Config error text: :class:`ConfigError` and pydantic's errors as one-line messages.

Every mistake in a config becomes a line that names the file, the field path, the
value given and what is allowed, e.g.::

    county.toml: services.childrens_homes.length.median_weeks = -3: must be > 0 (weeks)

An unknown field gets a "did you mean" suggestion from the fields allowed there.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
import types
import typing
from typing import Annotated, Any

from pydantic import BaseModel, ValidationError

from simulator.errors import UserError

#: At most this many problems are listed from one file; a last line counts the rest.
MAX_PROBLEMS = 40


class ConfigError(UserError):
    """A config that cannot be used, with every problem found.

    Attributes
    ----------
    source : str
        The file (or other source) name.
    problems : list of str
        One line per problem in ``source``: ``field.path = value: what is allowed``.
    elsewhere : list of (str, str)
        Problems found at the same time in the files the config names (a caseload
        snapshot, actuals), as ``(file, problem)``; listed first.
    """

    def __init__(
        self, source: str, problems: list[str], elsewhere: list[tuple[str, str]] | tuple = ()
    ):
        self.source = source
        # One line per problem, even when a key or value holds a line break.
        self.problems = [_one_line(p) for p in problems]
        self.elsewhere = [(where, _one_line(p)) for where, p in elsewhere]
        lines = [*self.elsewhere, *((source, p) for p in self.problems)]
        super().__init__("\n".join(_capped(lines)))

    @property
    def located(self) -> list[tuple[str, str]]:
        """Every problem as ``(file, problem)``, those of the named files first."""
        return [*self.elsewhere, *((self.source, p) for p in self.problems)]


def _capped(lines: list[tuple[str, str]]) -> list[str]:
    """``file: problem`` lines, at most :data:`MAX_PROBLEMS` from each file and a count of the rest."""
    out, shown, left = [], {}, {}
    for where, problem in lines:
        if shown.get(where, 0) < MAX_PROBLEMS:
            shown[where] = shown.get(where, 0) + 1
            out.append(f"{where}: {problem}")
        else:
            left[where] = left.get(where, 0) + 1
    out += [
        f"{where}: and {n} more problem{'s' if n > 1 else ''} (the first {MAX_PROBLEMS} are listed)"
        for where, n in left.items()
    ]
    return out


def _one_line(text: str) -> str:
    """Escape control characters (line breaks, tabs) so a message stays on one line."""
    return "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in text)


class FieldError(ValueError):
    """A model check's problem that belongs to one field of the model.

    Raised in a pydantic model validator, it is reported as
    ``model.path.field = value: message`` rather than at the model's path.
    """

    def __init__(self, field: str, value: Any, message: str):
        self.field, self.value, self.message = field, value, message
        super().__init__(message)


#: Longest value or key quoted in a message (a 50 MB label is not echoed).
SHOW_CHARS = 60


def show(value: Any) -> str:
    """A value as a message quotes it: TOML words for booleans, long text cut short."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, str) and len(value) > SHOW_CHARS - 12:
        return f"{value[: SHOW_CHARS - 20]!r}... ({len(value)} characters)"
    text = repr(value)
    if len(text) > SHOW_CHARS:
        text = f"{text[: SHOW_CHARS - 12]}... ({len(text)} characters)"
    return text


def looks_like_number(raw: Any) -> bool:
    """Whether ``raw`` is text holding a number (``"4"``, ``"0.1"``), as a quoted number is."""
    if not isinstance(raw, str):
        return False
    try:
        float(raw.strip().replace("_", ""))
    except ValueError:
        return False
    return bool(raw.strip())


def type_hint(raw: Any, wanted: str = "a number") -> str | None:
    """What to write instead of ``raw`` when it is the wrong kind of TOML value.

    A quoted number, ``true``/``false`` or a date given where ``wanted`` is
    expected; ``None`` when no hint fits.
    """
    if looks_like_number(raw):
        return f"is text in quotes: write {wanted} without quotes, e.g. {raw.strip()}"
    if isinstance(raw, bool):
        return f"must be {wanted}, not {show(raw)}"
    if isinstance(raw, str):
        return f"must be {wanted}, not text"
    return None


def format_loc(loc: tuple) -> str:
    """A field path as a config writes it: ``services.homes.budget_gbp."2024/25"``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            text = str(part)
            if len(text) > SHOW_CHARS:
                text = f"{text[: SHOW_CHARS - 12]}...({len(text)} characters)"
            if not re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", text):
                text = f'"{text}"'
            out += f".{text}" if out else text
    return out or "(top level)"


def _show(value: Any) -> str | None:
    if isinstance(value, dict | list):
        text = repr(value)
        return text if len(text) <= SHOW_CHARS else None
    return show(value)


def _unwrap(annotation: Any) -> Any:
    """Strip Annotated/Optional wrappers down to the model class or container."""
    while True:
        origin = typing.get_origin(annotation)
        if origin is Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(annotation) if a is not type(None)]
            annotation = args[0]
        else:
            return annotation


def _model_at(root: type[BaseModel], loc: tuple) -> Any:
    """The config class at ``loc`` inside ``root`` (``None`` when it is not a model)."""
    current: Any = root
    for part in loc:
        current = _unwrap(current)
        if isinstance(current, type) and issubclass(current, BaseModel):
            field = current.model_fields.get(str(part))
            if field is None:
                return None
            current = field.annotation
        elif typing.get_origin(current) in (dict, list):
            current = typing.get_args(current)[-1]
        else:
            return None
    current = _unwrap(current)
    if typing.get_origin(current) in (dict, list):
        return None
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def _message(error: dict, root: type[BaseModel]) -> str:
    loc, kind = tuple(error["loc"]), error["type"]
    if kind == "extra_forbidden":
        parent = _model_at(root, loc[:-1])
        allowed = sorted(parent.model_fields) if parent else []
        near = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
        hint = f" (did you mean '{near[0]}'?)" if near else ""
        return f"unknown field{hint}; allowed here: {', '.join(allowed)}"
    if kind == "missing":
        return "is required but missing"
    raw = error.get("input")
    if kind in ("int_type", "int_parsing", "float_type", "float_parsing", "int_from_float"):
        whole = kind.startswith("int")
        if kind == "int_from_float" or (whole and isinstance(raw, float)):
            return "must be a whole number"
        hint = type_hint(raw, "a whole number" if whole else "a number")
        if hint:
            return hint
    if kind == "date_type":
        if isinstance(raw, dt.datetime):
            return "must be a date without a time of day, e.g. 2024-06-30"
        if isinstance(raw, str):
            return "is text in quotes: write a TOML date without quotes, e.g. 2024-06-30"
        return "must be a date, e.g. 2024-06-30"
    if kind == "string_type":
        return "must be text in quotes"
    if kind == "bool_type":
        return "must be true or false"
    msg = error["msg"]
    for prefix in ("Value error, ", "Assertion failed, "):
        msg = msg.removeprefix(prefix)
    return msg[0].lower() + msg[1:] if msg else msg


def pydantic_problems(exc: ValidationError, root: type[BaseModel]) -> list[str]:
    """One line per error of validating ``root``: ``field.path = value: what is allowed``."""
    problems = []
    for error in exc.errors():
        path = format_loc(tuple(error["loc"]))
        shown = None if error["type"] == "missing" else _show(error.get("input"))
        message = _message(error, root)
        cause = (error.get("ctx") or {}).get("error")
        if isinstance(cause, FieldError):
            path = format_loc((*error["loc"], cause.field))
            shown, message = _show(cause.value), cause.message
        head = f"{path} = {shown}" if shown is not None else path
        problems.append(f"{head}: {message}")
    return problems
