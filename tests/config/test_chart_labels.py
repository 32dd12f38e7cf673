"""Labels from a config reach the charts as plain text, and every chart has a file of its own.

A label is the council's text, never a matplotlib formula: ``Costs $5 to $10``
keeps its dollar signs and ``$\\notacommand$`` cannot stop the charts being
drawn after a run. Chart file names are short and different for departments
whose names differ only in punctuation (trial defect 32). Label lengths are
checked when the config is (``tests/config/test_fuzz_defects.py``).
"""

from __future__ import annotations

import io

import numpy as np
import pytest
from matplotlib.text import Text

import simulator
from simulator.present.charts import chart_list, chart_style
from tests.helpers import make_config, placement_service

DOLLARS = "Costs $5 to $10"
UNKNOWN = r"$\notacommand$ and $x^$"


@pytest.fixture(scope="module")
def ds():
    config = make_config(
        {
            "a": placement_service(department="Children/Families", label=DOLLARS),
            "b": placement_service(department="Children-Families", label=UNKNOWN),
        }
    )
    return simulator.run(config, draws=40, seed=1)


def test_departments_differing_in_punctuation_get_files_of_their_own(ds):
    names = [chart.name for chart in chart_list(ds, every=True)]
    assert len(names) == len(set(names)), sorted(names)
    assert "inyear_total_2024-25" in names and "medium_total" in names  # plain names stay


def test_a_long_department_name_gives_a_short_file_name(ds):
    long = "Children, Young People and Families " * 9  # results written before labels were capped
    old = ds.assign_coords(
        service=[long if s == "Children/Families" else s for s in ds["service"].values]
    )
    names = [chart.name for chart in chart_list(old, every=True)]
    assert max(len(name) for name in names) <= 70, max(names, key=len)
    assert len(names) == len(set(names))


def _texts(fig) -> list[Text]:
    return [t for t in fig.findobj(Text) if t.get_text()]


@pytest.mark.parametrize("kind", ["inyear", "medium", "drivers"])
def test_labels_are_drawn_as_written(ds, kind):
    charts = [c for c in chart_list(ds) if c.kind == kind]
    shown = set()
    with chart_style():
        for chart in charts:
            fig = chart.figure()  # lays out the text: a formula would be parsed here
            fig.savefig(io.BytesIO(), format="png", dpi=30)
            for text in _texts(fig):
                shown.add(text.get_text())
                if "$" in text.get_text():
                    assert not text.get_parse_math(), text.get_text()
    assert any(DOLLARS in t for t in shown), sorted(shown)
    assert any(UNKNOWN.split()[0] in t for t in shown)


def test_dollar_text_takes_the_width_of_its_characters():
    """Drawn as a formula "Costs $5 to $10" loses its dollars and spaces ("Costs 5to10")."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    with chart_style():
        fig = Figure()
        renderer = FigureCanvasAgg(fig).get_renderer()
        plain = fig.text(0, 0, "Costs S5 to S10").get_window_extent(renderer).width
        dollars = fig.text(0, 0.5, DOLLARS).get_window_extent(renderer).width
    assert np.isclose(dollars, plain, rtol=0.05)
