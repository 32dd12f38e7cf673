"""Writing chart files: PNG and SVG of every chart, into a folder the tool owns.

Fixed metadata (and the style's fixed SVG id salt) keep the files byte-stable,
so a chart drawn twice is the same file.

Each PNG carries a tag (a text chunk, :data:`TAG_KEY`) saying which results it
shows and what its pixels are, so that the report can embed a chart file the run
already drew instead of drawing it again, and only when the file is provably the
picture of the results it reports on (:class:`ChartFiles`).
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable, Sequence
from pathlib import Path

import matplotlib
import matplotlib.ft2font
import matplotlib.image
import numpy as np
import xarray as xr
from matplotlib.figure import Figure
from PIL import Image

from simulator._version import __version__
from simulator.present.charts.catalogue import Chart, chart_list
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


#: The PNG text chunk holding a chart file's tag: ``"<identity> <pixels digest>"``.
TAG_KEY = "overspend-results"


def chart_identity(
    chart: Chart,
    ds: xr.Dataset,
    sensitivity: xr.Dataset | None = None,
    scenarios: xr.Dataset | None = None,
) -> str:
    """What a chart's pixels are drawn from, as a SHA-256 hex digest.

    The attributes of the results the chart reads (``simulation.nc``'s, and
    ``sensitivity.nc``'s or ``scenarios.nc``'s for their charts): every run
    stamps its own ``created`` time (to the second) beside its resolved config,
    seed, draws and version, so a new run of any kind changes them, and two
    runs that share all of them give the same results (runs are reproducible).
    Then the chart's name and size, the version and the code of overspend
    (:func:`code_revision`), and the versions of matplotlib and FreeType (a new
    version may draw differently).

    Parameters
    ----------
    chart : Chart
    ds : xarray.Dataset
        Results Dataset (``simulation.nc``).
    sensitivity, scenarios : xarray.Dataset, optional
        Their results, read for the sensitivity and scenario charts only.

    Returns
    -------
    str
    """
    sources = [ds]
    if chart.kind in ("tornado", "sobol"):
        sources.append(sensitivity)
    elif chart.kind == "scenarios":
        sources.append(scenarios)
    about = {
        "chart": chart.name,
        "size": [float(v) for v in chart.size],
        "versions": [
            __version__,
            code_revision(),
            matplotlib.__version__,
            matplotlib.ft2font.__freetype_version__,
        ],
        "results": [
            {str(k): str(v) for k, v in src.attrs.items()} for src in sources if src is not None
        ],
    }
    return hashlib.sha256(json.dumps(about, sort_keys=True).encode("utf-8")).hexdigest()


@functools.cache
def code_revision() -> str:
    """SHA-256 of the source of every module of :mod:`simulator` (names and text).

    Part of a chart's identity: a chart file drawn by other code (an update of the
    tool, which may draw a chart differently although its version number is the
    same) is drawn afresh rather than reused beside a PDF the new code draws.
    Reading the package's sources costs a few milliseconds, once per process.
    """
    root = Path(__file__).resolve().parents[2]  # the simulator package
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        digest.update(path.relative_to(root).as_posix().encode("utf-8") + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def pixels_digest(rgba: np.ndarray) -> str:
    """SHA-256 of an image's RGBA pixels and their shape (rows, columns, 4)."""
    rgba = np.ascontiguousarray(rgba, dtype=np.uint8)
    return hashlib.sha256(repr(rgba.shape).encode("ascii") + rgba.data).hexdigest()


def _save_png(fig: Figure, path: Path, identity: str) -> None:
    """Save ``fig`` as PNG tagged with ``identity`` and the digest of its pixels.

    What ``savefig`` does for a PNG of a figure without a layout engine (an Agg
    draw at the figure's DPI, then :func:`matplotlib.image.imsave` of the canvas),
    with the pixels hashed between the two: the tag must be known before writing.
    """
    canvas = fig.canvas
    canvas.draw()
    rgba = canvas.buffer_rgba()
    tag = f"{identity} {pixels_digest(np.asarray(rgba))}"
    matplotlib.image.imsave(
        path, rgba, format="png", origin="upper", dpi=fig.dpi,
        metadata={**_metadata(".png"), TAG_KEY: tag}, pil_kwargs=dict(PNG_OPTIONS),
    )  # fmt: skip


class ChartFiles:
    """Chart PNGs already drawn into a folder, read back only when they show these results.

    A file is used when its tag (:data:`TAG_KEY`) has the chart's
    :func:`chart_identity` for these results and the digest of the pixels it
    holds; anything else (no file, a file of another run, one an image editor
    changed, an unreadable one) gives ``None``, and the caller draws the chart.

    Parameters
    ----------
    folder : str or pathlib.Path
        The folder of chart files (a run's ``charts``).
    ds : xarray.Dataset
        The results the charts must show.
    sensitivity, scenarios : xarray.Dataset, optional
        Their results, when the report shows their charts.
    """

    def __init__(
        self,
        folder: str | Path,
        ds: xr.Dataset,
        sensitivity: xr.Dataset | None = None,
        scenarios: xr.Dataset | None = None,
    ) -> None:
        self.folder = Path(folder)
        self._results = (ds, sensitivity, scenarios)
        #: Names of the charts whose file was used (for tests and notes).
        self.used: list[str] = []

    def pixels(self, chart: Chart) -> np.ndarray | None:
        """The chart's RGBA pixels (rows, columns, 4) from its PNG file, or None."""
        rgba = _tagged_pixels(self.folder / f"{chart.name}.png")
        if rgba is None:
            return None
        identity, digest, pixels = rgba
        if identity != chart_identity(chart, *self._results) or digest != pixels_digest(pixels):
            return None
        self.used.append(chart.name)
        return pixels


def _tagged_pixels(path: Path) -> tuple[str, str, np.ndarray] | None:
    """A PNG's tag (identity, pixels digest) and RGBA pixels; None if untagged or unreadable."""
    try:
        with Image.open(path) as image:
            if image.format != "PNG":
                return None
            tag = image.info.get(TAG_KEY)  # a text chunk before the pixels: read on opening
            if not isinstance(tag, str) or tag.count(" ") != 1:
                return None
            identity, digest = tag.split(" ")
            return identity, digest, np.asarray(image.convert("RGBA"))
    # What Pillow raises for a missing, truncated or malformed file: the chart is drawn instead.
    except (OSError, ValueError, SyntaxError, EOFError, Image.DecompressionBombError):
        return None


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
                if fmt == "png":  # tagged, so the report can use it (ChartFiles)
                    _save_png(fig, path, chart_identity(chart, ds, sensitivity, scenarios))
                else:
                    fig.savefig(path, dpi=DPI, metadata=_metadata(path.suffix))
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
