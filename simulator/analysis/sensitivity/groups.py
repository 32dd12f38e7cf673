"""Input groups: which uncertain inputs a sensitivity analysis moves together.

:data:`GROUPINGS` names the ways of grouping; :func:`group_inputs` makes the
:class:`InputGroup` list that the Sobol design, the tornado and the Dataset share.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from simulator.config.inputs import group_key
from simulator.errors import UserError

#: Ways of grouping inputs: each named input alone; the per-year inputs of one
#: parameter together (the default); or everything in one config section
#: (an inflation factor, or one service) together.
GROUPINGS = ("parameter", "input", "section")


@dataclass(frozen=True)
class InputGroup:
    """Inputs that a sensitivity analysis moves together.

    Attributes
    ----------
    name : str
        The group's name, e.g. ``inflation.factors.nlw.uplift``.
    members : tuple of int
        Columns of the input design (indices into ``plan.inputs``).
    member_names : tuple of str
        Names of those inputs.
    """

    name: str
    members: tuple[int, ...]
    member_names: tuple[str, ...]


def group_inputs(names: Sequence[str], by: str = "parameter") -> list[InputGroup]:
    """Group named inputs for a sensitivity analysis.

    Parameters
    ----------
    names : sequence of str
        Input names in design-column order (``[i.name for i in plan.inputs]``).
    by : {"parameter", "input", "section"}
        ``"parameter"`` joins the per-year inputs of one parameter (for example
        ``inflation.factors.nlw.uplift[2025/26]`` ... ``[2027/28]`` become
        ``inflation.factors.nlw.uplift``); ``"input"`` keeps every input alone;
        ``"section"`` joins everything of one inflation factor or one service.

    Returns
    -------
    list of InputGroup
        In order of first appearance.
    """
    if by not in GROUPINGS:
        raise UserError(f"grouping {by!r} is not known: use one of {', '.join(GROUPINGS)}")
    found: dict[str, list[int]] = {}
    for k, name in enumerate(names):
        found.setdefault(group_key(name, by), []).append(k)
    return [
        InputGroup(key, tuple(cols), tuple(names[c] for c in cols)) for key, cols in found.items()
    ]
