"""Writing chart files: PNG and SVG of every chart, into a folder the tool owns.

Fixed metadata (and the style's fixed SVG id salt) keep the files byte-stable,
so a chart drawn twice is the same file.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import xarray as xr

from simulator._version import __version__
from simulator.present.charts.catalogue import chart_list
from simulator.present.charts.style import DPI, chart_style

FORMATS: tuple[str, ...] = ("png", "svg")


#: PNG files at zlib level 1: the same pixels, written in 26 ms a chart instead of 40 at the
#: default level 6, in files 6% larger (the 19 default charts of the example county).
PNG_OPTIONS = {"compress_level": 1}


def _metadata(suffix: str) -> dict:
    # Fixed metadata keeps SVG and PDF output byte-stable between identical runs.
    if suffix == ".svg":
        return {"Date": None, "Creator": f"overspend {__version__}"}
    if suffix == ".png":
        return {"Software": f"overspend {__version__}"}
    return {}


def write_charts(
    ds: xr.Dataset,
    folder: str | Path,
    *,
    sensitivity: xr.Dataset | None = None,
    scenarios: xr.Dataset | None = None,
    every: bool = False,
    formats: Sequence[str] = FORMATS,
    progress: Callable[[int, int], None] | None = None,
    headline: bool = False,
) -> list[Path]:
    """Draw the charts of a run into ``folder`` as PNG and SVG files.

    Parameters
    ----------
    ds : xarray.Dataset
        Results Dataset.
    folder : str or pathlib.Path
        Created if missing; files of the same names are replaced.
    sensitivity, scenarios : xarray.Dataset, optional
        Sensitivity and scenario results; their charts are drawn when given.
    every : bool
        Draw every service and year in full (see :func:`chart_list`).
    formats : sequence of str
        File formats (suffixes) to write.
    progress : callable, optional
        ``progress(done, total)`` after each chart (for a progress bar).
    headline : bool
        Only the headline charts (what ``overspend run`` draws; see :func:`chart_list`).

    Returns
    -------
    list of pathlib.Path
        The files written.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    todo = chart_list(ds, sensitivity, scenarios, every, headline)
    with chart_style():
        for done, chart in enumerate(todo, start=1):
            fig = chart.figure()
            for fmt in formats:
                path = folder / f"{chart.name}.{fmt}"
                png = {"pil_kwargs": PNG_OPTIONS} if fmt == "png" else {}
                fig.savefig(path, dpi=DPI, metadata=_metadata(path.suffix), **png)
                written.append(path)
            if progress is not None:
                progress(done, len(todo))
    return written


def replace_charts(ds: xr.Dataset, folder: str | Path, **kw) -> list[Path]:
    """Redraw the charts into ``folder`` atomically: the old folder is swapped out only at the end.

    The folder is replaced as a whole, so it must be new, empty, or a folder of
    charts the tool drew itself: a folder holding anything else (the user's own
    pictures included) is refused before drawing rather than lost. Takes the
    keyword arguments of :func:`write_charts`.
    """
    from simulator.files import claim, write_folder

    folder = Path(folder)
    with claim(folder):
        check_charts_folder(folder)  # refuse before drawing, not after
        return write_folder(folder, lambda tmp: write_charts(ds, tmp, **kw), force=True)


CHART_SUFFIXES = (".png", ".svg")


def check_charts_folder(folder: Path) -> None:
    """Refuse a charts folder that is not the tool's, or holds the tool's other results.

    Charts replace their folder as a whole: a run folder given as ``--out``
    would lose its simulation, a folder of the user's their own files.
    """
    from simulator.errors import UserError
    from simulator.files import check_folder, is_bookkeeping

    folder = Path(folder)
    check_folder(folder, force=True)
    if folder.is_dir():
        others = sorted(
            p.name
            for p in folder.iterdir()
            if not is_bookkeeping(p.name) and p.suffix.lower() not in CHART_SUFFIXES
        )
        if others:
            raise UserError(
                f"{folder} holds other results ({', '.join(others[:3])}): charts replace a "
                "folder of their own, so give an empty or new folder, or the run's charts folder"
            )
