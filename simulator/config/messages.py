"""Config error text: :class:`ConfigError` and pydantic's errors as one-line messages.

Every mistake in a config becomes a line that names the file, the field path, the
value given and what is allowed, e.g.::

    county.toml: services.childrens_homes.length.median_weeks = -3: must be > 0 (weeks)

An unknown field gets a "did you mean" suggestion from the fields allowed there.
"""

from __future__ import annotations

import difflib
import re
import types
import typing
from typing import Annotated, Any

from pydantic import BaseModel, ValidationError

from simulator.errors import UserError


class ConfigError(UserError):
    """A config that cannot be used, with every problem found.

    Attributes
    ----------
    source : str
        The file (or other source) name.
    problems : list of str
        One line per problem: ``field.path = value: what is allowed``.
    """

    def __init__(self, source: str, problems: list[str]):
        self.source = source
        # One line per problem, even when a key or value holds a line break.
        self.problems = [_one_line(p) for p in problems]
        super().__init__("\n".join(f"{source}: {p}" for p in self.problems))


def _one_line(text: str) -> str:
    """Escape control characters (line breaks, tabs) so a message stays on one line."""
    return "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in text)


def _format_loc(loc: tuple) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            text = str(part)
            if not re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", text):
                text = f'"{text}"'
            out += f".{text}" if out else text
    return out or "(top level)"


def _show(value: Any) -> str | None:
    if isinstance(value, dict | list):
        text = repr(value)
        return text if len(text) <= 60 else None
    return repr(value)


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
    msg = error["msg"]
    for prefix in ("Value error, ", "Assertion failed, "):
        msg = msg.removeprefix(prefix)
    return msg[0].lower() + msg[1:] if msg else msg


def pydantic_problems(exc: ValidationError, root: type[BaseModel]) -> list[str]:
    """One line per error of validating ``root``: ``field.path = value: what is allowed``."""
    problems = []
    for error in exc.errors():
        path = _format_loc(tuple(error["loc"]))
        shown = None if error["type"] == "missing" else _show(error.get("input"))
        head = f"{path} = {shown}" if shown is not None else path
        problems.append(f"{head}: {_message(error, root)}")
    return problems
