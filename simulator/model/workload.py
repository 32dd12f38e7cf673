"""How much work a run is, known before it starts: placements, time and size.

A config can ask for work that never ends on this machine (``per_year =
1,000,000``, or ``--draws 1000000000000``); :func:`workload` estimates it from
the plan so the command line can say how long a run will take, or refuse one
that would not finish, before simulating anything (trial defects 28 and 34).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simulator.model.equations import Draws, Plan, expected_arrivals

#: CPU cost of one placement's life (drawing its length and cost, charging its
#: months), nanoseconds. Measured here with ``overspend bench`` and a timing of the
#: bundled configs on one thread: 30 to 45 ns under load; the larger value, so that
#: estimates err long.
NS_PER_PLACEMENT = 45.0

#: CPU cost per result row and month of a draw (arrivals, income, savings,
#: department and total rows), nanoseconds; measured as above.
NS_PER_CELL = 40.0


@dataclass(frozen=True)
class Workload:
    """The size of one draw of a plan.

    Attributes
    ----------
    placements_per_draw : float
        Placement lives simulated per draw at the inputs' medians: those open at
        the start plus the expected arrivals of every simulated month.
    cells : int
        Result rows x months.
    bytes_per_draw : int
        Bytes one draw takes in the results (see ``engine.chunks.bytes_per_draw``).
    """

    placements_per_draw: float
    cells: int
    bytes_per_draw: int

    def seconds(self, draws: int, threads: int = 1) -> float:
        """Estimated wall time of ``draws`` draws on ``threads`` threads, seconds."""
        per_draw = self.placements_per_draw * NS_PER_PLACEMENT + self.cells * NS_PER_CELL
        return draws * per_draw * 1e-9 / max(threads, 1)

    def result_bytes(self, draws: int) -> int:
        """Size of the results of ``draws`` draws, uncompressed, bytes."""
        return draws * self.bytes_per_draw

    def draws_within(self, seconds: float, threads: int = 1) -> int:
        """The most draws that take about ``seconds`` on ``threads`` threads (at least 1)."""
        return max(1, int(seconds / max(self.seconds(1, threads), 1e-12)))


def workload(plan: Plan) -> Workload:
    """The work of one draw of ``plan``, at the medians of its uncertain inputs.

    Parameters
    ----------
    plan : Plan

    Returns
    -------
    Workload
    """
    from simulator.engine.chunks import bytes_per_draw

    medians = Draws(plan, np.full((1, len(plan.inputs)), 0.5))
    arrivals = float(expected_arrivals(plan, medians).sum())
    opening = float(plan.init_offsets[-1])
    return Workload(
        placements_per_draw=opening + arrivals,
        cells=len(plan.groups) * plan.grid.n_months,
        bytes_per_draw=bytes_per_draw(plan),
    )
