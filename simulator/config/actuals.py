"""In-year actuals from the command line: ``overspend run --as-of --actuals``.

:func:`with_actuals` adds actual spend to date, read from a CSV file, to a loaded
config; those months are then fixed and the rest of the year is simulated.
"""

from __future__ import annotations

from pathlib import Path

from simulator.config.load import (
    config_from_dict,
    config_origin,
    read_named_files,
    remember_origin,
)
from simulator.config.messages import ConfigError
from simulator.config.schema import Config, as_dict


def with_actuals(
    config: Config, as_of: str, actuals_file: str | Path, source: str = "<config>"
) -> Config:
    """The config with actuals to date from a CSV file (``overspend run --as-of --actuals``).

    Parameters
    ----------
    config : Config
    as_of : str
        The last day of the last actual month, ``YYYY-MM-DD``.
    actuals_file : str or pathlib.Path
        CSV with columns service, month, net_spend_gbp and optionally caseload, or a
        ledger export (a workbook, months across, year to date: see ``docs/excel.md``).
    source : str
        The config's name, for error messages.

    Returns
    -------
    Config
    """
    from simulator.config.casefiles import parse_date

    try:
        day = parse_date(as_of)
    except ValueError as exc:
        raise ConfigError("--as-of", [str(exc)]) from None
    if config.snapshot is not None and config.snapshot.as_of != day:
        raise ConfigError(
            "--as-of",
            [
                f"{day} differs from the config's snapshot.as_of = {config.snapshot.as_of}: the "
                "snapshot lists the placements open on its own date, so give a snapshot for "
                f"{day} or use --as-of {config.snapshot.as_of}"
            ],
        )
    data = as_dict(config)
    data["actuals"] = {
        **data.get("actuals", {}),
        "as_of": day,
        "months": [],
        "file": str(actuals_file),
    }
    where = f"{source} with --actuals {actuals_file}"
    # A file named on the command line may be anywhere: the user chose it.
    data, files = read_named_files(data, Path("."), where, allow_outside=True)
    found = config_from_dict(data, where, files)
    origin = config_origin(config)  # a workbook's name and hash stay on record
    if origin is not None:
        remember_origin(found, origin)
    return found
