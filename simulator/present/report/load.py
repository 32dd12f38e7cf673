"""Reading a run folder's results for the charts and the report, and refusing bad ones.

:func:`load_results` opens ``simulation.nc`` (or ``simulation.zarr``) and, when
they are of the same run, ``sensitivity.nc`` and ``scenarios.nc``.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import xarray as xr

from simulator.errors import UserError
from simulator.runs.streamed import open_results, results_path

#: What the charts and the report read from a results Dataset, with each one's dimensions.
REQUIRED = {
    "service": ("service",),
    "service_label": ("service",),
    "service_type": ("service",),
    "department": ("service",),
    "financial_year": ("financial_year",),
    "month": ("month",),
    "month_financial_year": ("month",),
    "days_in_month": ("month",),
    "spend": ("draw", "service", "month"),
    "overspend": ("draw", "service", "financial_year"),
    "outturn": ("draw", "service", "financial_year"),
    "budget": ("service", "financial_year"),
}


def first_line(exc: BaseException) -> str:
    """An exception's message cut to its first line (xarray's run on with links and advice)."""
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


def check_results(ds: xr.Dataset, found: Path) -> None:
    """Refuse a Dataset that lacks what the charts and report read, in one line.

    Raises
    ------
    UserError
        Naming the missing variables, or the first variable of the wrong shape.
    """
    missing = [name for name in REQUIRED if name not in ds.variables]
    if missing:
        raise UserError(
            f"{found} lacks {', '.join(missing)}: not a results file of `overspend run` "
            "(run it again to rewrite the folder)"
        )
    for name, dims in REQUIRED.items():
        if ds[name].dims != dims:
            raise UserError(
                f"{found}: {name} has dimensions ({', '.join(map(str, ds[name].dims))}), "
                f"not ({', '.join(dims)}): not a results file of `overspend run`"
            )
    if "total" not in set(ds["service"].values.astype(str)):
        raise UserError(
            f"{found} has no 'total' service row: not a results file of `overspend run`"
        )


#: Sections of a config that leave what sensitivity and scenario results measure unchanged:
#: [run] holds only defaults, and both commands run the plan without actuals.
IGNORED_SECTIONS = ("run", "actuals")


def _model_of(config_text: str) -> dict:
    """A config's sections that define the model (text that is not TOML is kept whole)."""
    try:
        data = tomllib.loads(config_text)
    except tomllib.TOMLDecodeError:
        return {"text": config_text}
    return {k: v for k, v in data.items() if k not in IGNORED_SECTIONS}


def mismatch(ds: xr.Dataset, extra: xr.Dataset) -> str | None:
    """Why ``extra`` (sensitivity or scenario results) is not of the run ``ds``; ``None`` if it is.

    Compares the configs the two were made from when both record theirs, else
    the council and the result rows.
    """
    ours, theirs = ds.attrs.get("config"), extra.attrs.get("config")
    if isinstance(ours, str) and isinstance(theirs, str):
        if _model_of(ours) != _model_of(theirs):
            return "it was made from a different config than simulation.nc"
        return None
    council = str(extra.attrs.get("council", ds.attrs.get("council")))
    if council != str(ds.attrs.get("council")):
        return f"it is for {council}, not {ds.attrs.get('council')}"
    if "service" in extra.coords and list(extra["service"].values.astype(str)) != list(
        ds["service"].values.astype(str)
    ):
        return "its services differ from those of simulation.nc"
    return None


def _open_extra(path: Path, ds: xr.Dataset, notes: list[str] | None) -> xr.Dataset | None:
    """``sensitivity.nc`` or ``scenarios.nc`` when present and of this run (they are small).

    One from another config is left out, with a note saying why.
    """
    if not path.exists():
        return None
    try:
        extra = xr.load_dataset(path)
    except (OSError, ValueError) as exc:
        raise UserError(
            f"{path} cannot be read as a netCDF results file: {first_line(exc)}"
        ) from None
    why = mismatch(ds, extra)
    if why is None:
        return extra
    if notes is not None:
        notes.append(f"{path.name} left out: {why} (run it again for this config)")
    return None


def load_results(
    results_dir: str | Path, notes: list[str] | None = None
) -> tuple[xr.Dataset, xr.Dataset | None, xr.Dataset | None]:
    """Open a run folder's results and, when present, ``sensitivity.nc`` and ``scenarios.nc``.

    Opened by :func:`simulator.runs.streamed.open_results`: a ``simulation.nc``
    under :data:`LOAD_BYTES` is read into memory, a larger file or a streamed
    run's ``simulation.zarr`` is opened lazily.

    Parameters
    ----------
    results_dir : str or pathlib.Path
        A folder written by ``overspend run``.
    notes : list of str, optional
        Receives a one-line note for each of ``sensitivity.nc`` and
        ``scenarios.nc`` left out because it comes from another config (it is
        then returned as ``None``).

    Raises
    ------
    UserError
        When the folder or its results are missing, unreadable or incomplete.
    """
    folder = Path(results_dir)
    if not folder.is_dir():
        raise UserError(f"{folder}: no such results folder (make one with `overspend run`)")
    try:
        found = results_path(folder)
    except UserError:
        raise UserError(
            f"{folder} has no simulation.nc (or simulation.zarr): is it a results folder of "
            "`overspend run`?"
        ) from None
    try:
        ds = open_results(found)
    except (OSError, ValueError, KeyError) as exc:
        raise UserError(f"{found} cannot be read as a results file: {first_line(exc)}") from None
    try:
        check_results(ds, found)
    except UserError:
        ds.close()
        raise
    sens = _open_extra(folder / "sensitivity.nc", ds, notes)
    return ds, sens, _open_extra(folder / "scenarios.nc", ds, notes)
