"""The caseload on a date: every placement open then, with how long it has lasted.

``write_caseload_snapshot`` writes the file that a config's ``[snapshot]``
reads (``simulator.config.casefiles.read_snapshot``, docs/config.md): one row per
open placement::

    service,start_date,weekly_cost_gbp,planned_end_date
    ifa_fostering,2021-07-14,845.00,
    childrens_homes,2023-01-02,,

``weekly_cost_gbp`` is blank where the records give none (the engine then draws
one from the service's unit cost); ``planned_end_date`` is
always blank, because an end date in the records after the as-of date is what
happened next, not what was planned then.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from simulator.files import write_file

from .records import Records

SNAPSHOT_COLUMNS = ("service", "start_date", "weekly_cost_gbp", "planned_end_date")


def open_on(placements: pd.DataFrame, as_of: date | str | np.datetime64) -> pd.DataFrame:
    """Placements open at the end of day ``as_of``: started by then and not yet ended.

    Parameters
    ----------
    placements : pandas.DataFrame
        A placements table (see :class:`~.records.Records`).
    as_of : date, str or numpy.datetime64

    Returns
    -------
    pandas.DataFrame
        The open placements, in the order given.
    """
    day = pd.Timestamp(as_of).normalize()
    ended = placements["end"].notna() & (placements["end"] <= day)
    return placements[(placements["start"] <= day) & ~ended]


def caseload_snapshot(
    records: Records | pd.DataFrame, as_of: date | str | np.datetime64
) -> pd.DataFrame:
    """The caseload snapshot table on ``as_of`` (columns :data:`SNAPSHOT_COLUMNS`).

    Parameters
    ----------
    records : Records or pandas.DataFrame
        Cleaned records, or their placements table.
    as_of : date, str or numpy.datetime64

    Returns
    -------
    pandas.DataFrame
        One row per open placement, sorted by service then start date;
        ``start_date`` as ISO text, ``weekly_cost_gbp`` in GBP per week (NaN when
        unknown), ``planned_end_date`` empty.
    """
    placements = records.placements if isinstance(records, Records) else records
    open_now = open_on(placements, as_of).sort_values(["service", "start"], kind="stable")
    return pd.DataFrame(
        {
            "service": open_now["service"].to_numpy(),
            "start_date": open_now["start"].dt.strftime("%Y-%m-%d").to_numpy(),
            "weekly_cost_gbp": open_now["weekly_cost"].to_numpy(dtype=float),
            "planned_end_date": "",
        }
    )


def write_caseload_snapshot(
    records: Records | pd.DataFrame, as_of: date | str | np.datetime64, path: str | Path
) -> int:
    """Write the caseload snapshot CSV of placements open on ``as_of``.

    Parameters
    ----------
    records : Records or pandas.DataFrame
        Cleaned records (:func:`~.ssda903.load_ssda903`, :func:`~.packages.load_packages`),
        or their placements table.
    as_of : date, str or numpy.datetime64
        The snapshot date: placements started on or before it and not ended by
        the end of it.
    path : str or pathlib.Path
        CSV to write (replaced if it exists; written under a temporary name first).

    Returns
    -------
    int
        Rows written (open placements).
    """
    table = caseload_snapshot(records, as_of)
    write_file(
        Path(path),
        lambda tmp: table.to_csv(tmp, index=False, float_format="%.2f", lineterminator="\n"),
    )
    return len(table)
