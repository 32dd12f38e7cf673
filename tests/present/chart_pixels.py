"""Pixel digests of every chart of a fixed small results set: "pictures stay the same".

``tests/data/chart_results.nc`` is a saved run (60 draws of a two-department,
two-year council with actuals and the officer's forecast, the configuration of
``tests/present/test_report.py``), kept as a file so that changes to the engine's
random streams do not move the pictures. :func:`pixel_digests` draws every chart
of it (with made-up sensitivity and scenario results) the way ``overspend chart``
does and hashes the decoded RGBA pixels; ``tests/data/chart_pixels.json`` holds
the digests the drawing code gave before issue 17 made drawing cheaper.

Pixels depend on matplotlib's and FreeType's versions, so the file records them;
a test on other versions compares nothing (it is skipped, not passed).

Run ``python -m tests.present.chart_pixels`` to record the digests again (only
when a picture is meant to change, and say why in the commit).
"""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path

import matplotlib
import matplotlib.ft2font
import numpy as np
import xarray as xr
from PIL import Image

DATA = Path(__file__).resolve().parents[1] / "data"
RESULTS = DATA / "chart_results.nc"
DIGESTS = DATA / "chart_pixels.json"
DRAWS = 60
SEED = 17


def versions() -> dict[str, str]:
    """What the pixels depend on besides our code."""
    return {
        "matplotlib": matplotlib.__version__,
        "freetype": matplotlib.ft2font.__freetype_version__,
    }


def pixels_digest(png: bytes) -> str:
    """SHA-256 of a PNG's decoded RGBA pixels and size (not its bytes: metadata may differ)."""
    image = Image.open(io.BytesIO(png)).convert("RGBA")
    pixels = np.asarray(image)
    return hashlib.sha256(repr(pixels.shape).encode() + pixels.tobytes()).hexdigest()


def reference_results() -> xr.Dataset:
    """The saved results set (written by :func:`record` on first use)."""
    return xr.load_dataset(RESULTS)


def extras(ds: xr.Dataset) -> tuple[xr.Dataset, xr.Dataset]:
    """Made-up sensitivity and scenario results of ``ds`` (deterministic)."""
    from tests.present.test_charts import fake_scenarios, fake_sensitivity

    return fake_sensitivity(ds), fake_scenarios(ds)


def chart_pngs(ds: xr.Dataset) -> dict[str, bytes]:
    """Every default chart of ``ds`` (and its sensitivity and scenario charts) as PNG bytes."""
    from simulator.present import charts

    sens, scen = extras(ds)
    out = {}
    with charts.chart_style():
        for chart in charts.chart_list(ds, sens, scen):
            buf = io.BytesIO()
            chart.figure().savefig(buf, format="png", dpi=charts.DPI)
            out[chart.name] = buf.getvalue()
    return out


def pixel_digests(ds: xr.Dataset) -> dict[str, str]:
    """Chart name -> digest of its decoded pixels."""
    return {name: pixels_digest(png) for name, png in chart_pngs(ds).items()}


def record() -> None:
    """Write the results set (if missing) and the digests of its charts."""
    if not RESULTS.exists():
        import simulator
        from tests.present.test_report import CONFIG

        ds = simulator.run(simulator.loads_config(CONFIG, "test.toml"), draws=DRAWS, seed=SEED)
        encoding = {name: {"zlib": True, "complevel": 9} for name in ds.data_vars}
        ds.to_netcdf(RESULTS, encoding=encoding)
    ds = reference_results()
    DIGESTS.write_text(
        json.dumps({"versions": versions(), "digests": pixel_digests(ds)}, indent=1) + "\n"
    )


if __name__ == "__main__":
    record()
