"""The what-if page: a Dash app over :class:`~simulator.serve.whatif.WhatIf`.

Layout: the assumptions on the left, section by section, each labelled in the
inputs table's words with its units and allowed range and starting at the
config's value, with the config's scenarios as switches; on the right, for
the chosen row and year, the figures of the base case beside the what-if
with the difference and its standard error, the fan chart, the top drivers,
"Save as scenario" and the downloads.

A change runs the first pass at once (a few draws) and the page then polls
while the background refiner adds chunks, saying the draws and standard
errors shown. A control the config validator refuses is reported in its
words and the page keeps the last figures it could show.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import numpy as np
from dash import ALL, Dash, Input, Output, State, ctx, dcc, html, no_update
from dash.exceptions import PreventUpdate

from simulator.config.messages import ConfigError
from simulator.errors import UserError
from simulator.present.numbers import MINUS, fixed, money_k_or_m, money_text, pct_text
from simulator.serve.chart import fan_figure, fan_png, in_year
from simulator.serve.controls import SECTIONS, Control, changed_words, changes_for, controls_of
from simulator.serve.figures import Measure, drivers, measures, row_index
from simulator.serve.save import figures_csv, figures_rows, figures_xlsx, save_scenario
from simulator.serve.whatif import Case, WhatIf

LOG = logging.getLogger("overspend.serve")

#: How often the page asks for refined figures while the background adds draws (ms).
POLL_MS = 700

_CONTROL = {"type": "control", "name": ALL}

#: The download buttons: figures as CSV and Excel, the chart as PNG.
DOWNLOADS = ("csv", "xlsx", "png")


# ------------------------------------------------------------------ words


def chance_se(p: float) -> str:
    """A chance's standard error in percentage points, e.g. ``1.4 pts``."""
    return f"{fixed(p * 100, 1)} pts"


def value_text(m: Measure, x: float) -> str:
    """A figure's value: a chance as a whole percentage, money in £m to one decimal."""
    return pct_text(x) if m.kind == "chance" else money_text(x)


def diff_text(m: Measure) -> str:
    """A change, signed: ``+12 pts`` or ``+£1.2m`` (``no change`` when exactly none)."""
    if m.diff == 0:
        return "no change"
    if m.kind == "chance":
        return f"{fixed(m.diff * 100, sign=True)} pts".replace("-", MINUS)
    text = money_text(m.diff)
    return text if text.startswith(MINUS) else "+" + text


def se_text(m: Measure, se: float) -> str:
    """A standard error in the units of its figure."""
    if not np.isfinite(se):
        return "n/a"
    return chance_se(se) if m.kind == "chance" else money_k_or_m(se).replace("-", MINUS)


# ------------------------------------------------------------------ layout


def _control_block(c: Control) -> html.Div:
    # The input inside its label: labelled for screen readers without repeating its id.
    return html.Div(
        className="control",
        children=[
            html.Label(
                className="control-label",
                children=[
                    c.label,
                    dcc.Input(
                        id=c.dom_id,
                        type="text",
                        value=f"{c.value:g}",
                        debounce=True,
                        className="control-input",
                        autoComplete="off",
                    ),
                ],
            ),
            html.Div(f"{c.what}; allowed {c.allowed}", className="control-help"),
        ],
    )


def _sections(controls: list[Control]) -> list:
    out = []
    for section in SECTIONS:
        inside = [_control_block(c) for c in controls if c.section == section]
        if inside:
            out.append(html.Details(open=section == SECTIONS[0],
                                    children=[html.Summary(section), *inside]))  # fmt: skip
    return out


STYLE = """
body { font-family: system-ui, sans-serif; margin: 0; color: #222; }
header { background: #1f3a5f; color: white; padding: 10px 20px; }
header h1 { font-size: 1.3em; margin: 0; }
.main { display: flex; gap: 20px; padding: 12px 20px; }
.left { width: 360px; flex: none; max-height: 88vh; overflow-y: auto; }
.right { flex: 1; min-width: 0; }
.control { margin: 6px 0 10px; }
.control-label { font-weight: 600; display: block; font-size: 0.92em; }
.control-input { width: 120px; display: block; font-weight: normal; }
.control-help { color: #666; font-size: 0.8em; }
summary { font-weight: 700; margin-top: 8px; cursor: pointer; }
#problems { color: #a00; white-space: pre-wrap; font-size: 0.9em; }
table.figures { border-collapse: collapse; margin: 8px 0; }
table.figures td, table.figures th { border-bottom: 1px solid #ddd; padding: 4px 10px;
  text-align: right; }
table.figures td:first-child, table.figures th:first-child { text-align: left; }
.se { color: #666; font-size: 0.8em; display: block; }
#status { color: #444; font-size: 0.9em; }
"""


def layout(engine: WhatIf, controls: list[Control], title: str) -> html.Div:
    """The page's layout."""
    plan = engine.base.plan
    config = engine.config
    rows = [{"label": g.label, "value": g.key} for g in plan.groups]
    years = plan.grid.fy_labels
    switches = [
        {"label": f"{s.description or name} ({name})", "value": name}
        for name, s in config.scenarios.items()
    ]
    return html.Div([
        html.Header(html.H1(f"{title}: what if…?")),
        html.Div(className="main", children=[
            html.Div(className="left", children=[
                html.P("Change an assumption and press Enter: the page simulates it on the "
                       "same random numbers as the base case."),
                html.Button("Back to the config's values", id="reset", n_clicks=0),
                html.Div(id="problems", role="alert"),
                html.H3("Scenarios of the config"),
                dcc.Checklist(id="switches", options=switches, value=[]),
                html.P("The config has no [scenarios]." if not switches else "",
                       className="control-help"),
                *_sections(controls),
            ]),
            html.Div(className="right", children=[
                html.Div([
                    html.Label("Budget line ", htmlFor="row"),
                    dcc.Dropdown(id="row", options=rows, value="total", clearable=False,
                                 style={"width": "420px", "display": "inline-block"}),
                    html.Label(" Financial year ", htmlFor="year"),
                    dcc.Dropdown(id="year", options=years, value=years[0], clearable=False,
                                 style={"width": "140px", "display": "inline-block"}),
                ]),
                html.Div(id="figures"),
                html.Div(id="status", role="status"),
                dcc.Graph(id="fan", config={"displaylogo": False}),
                html.H3("What drives the risk"),
                html.Div(id="drivers"),
                html.H3("Save and download"),
                dcc.Input(id="save-name", type="text", placeholder="scenario_name",
                          debounce=False),
                html.Button("Save as scenario", id="save", n_clicks=0),
                html.Div(id="saved", style={"whiteSpace": "pre-wrap"}),
                html.Div([
                    html.Button("Download figures (CSV)", id="get-csv", n_clicks=0),
                    html.Button("Download figures (Excel)", id="get-xlsx", n_clicks=0),
                    html.Button("Download chart (PNG)", id="get-png", n_clicks=0),
                ], style={"marginTop": "8px"}),
                *(dcc.Download(id=f"download-{which}") for which in DOWNLOADS),
            ]),
        ]),
        dcc.Interval(id="refine", interval=POLL_MS, disabled=True),
        dcc.Store(id="shown"),
    ])  # fmt: skip


# ------------------------------------------------------------------ rendering


def figures_table(ms: list[Measure], changed: bool) -> html.Table:
    """The figures, base case beside the what-if, with the difference and standard errors."""

    def cell(text: str, se: str, cid: str, value: float) -> html.Td:
        return html.Td([html.Span(text, id=cid, **{"data-value": repr(float(value))}),
                        html.Span(f"s.e. {se}", className="se")])  # fmt: skip

    head = html.Tr([html.Th(""), html.Th("Base case"), html.Th("What-if"),
                    html.Th("Difference")])  # fmt: skip
    body = []
    for k, m in enumerate(ms):
        body.append(html.Tr([
            html.Td(m.name),
            cell(value_text(m, m.base), se_text(m, m.base_se), f"base-{k}", m.base),
            cell(value_text(m, m.what_if), se_text(m, m.what_if_se), f"whatif-{k}", m.what_if),
            cell(diff_text(m) if changed else "no change", se_text(m, m.diff_se), f"diff-{k}",
                 m.diff),
        ]))  # fmt: skip
    return html.Table([html.Thead(head), html.Tbody(body)], className="figures")


def driver_list(found) -> html.Ul:
    """The drivers in words."""
    items = []
    for d in found:
        how = (f"{pct_text(d.share)} of the spread" if d.kind == "line"
               else f"explains about {pct_text(d.share)} of the spread (rank correlation squared)")  # fmt: skip
        items.append(html.Li(f"{d.label}: {how}"))
    return html.Ul(items or [html.Li("No single driver stands out.")])


class Page:
    """The Dash app and the state behind it.

    Parameters
    ----------
    engine : WhatIf
        Started (its base case's first pass done).
    results_dir : pathlib.Path
        Where "Save as scenario" writes (its ``what_if`` folder).
    title : str
        The council's name.
    """

    def __init__(self, engine: WhatIf, results_dir: Path, title: str) -> None:
        import plotly.graph_objects  # noqa: F401  (imported now, not on the first change)

        self.engine = engine
        self.results_dir = Path(results_dir)
        self.title = title
        self.controls = controls_of(engine.config)
        self.labels = {k: engine.config.service_label(k) for k in engine.config.services}
        self.app = Dash(__name__, title=f"{title}: what if", serve_locally=True,
                        update_title=None)  # fmt: skip
        self.app.index_string = self.app.index_string.replace(
            "{%css%}", "{%css%}<style>" + STYLE + "</style>"
        )
        self.app.layout = layout(engine, self.controls, title)
        self._register()

    # -------------------------------------------------------------- state

    def _values(self, values: list, ids: list[dict]) -> dict[str, object]:
        return {i["name"]: v for i, v in zip(ids, values, strict=True)}

    def _case(self, values: dict, switches: list[str]) -> tuple[Case, dict]:
        changes = changes_for(self.engine.config, self.controls, values, switches or [])
        return self.engine.case(changes), changes

    def _render(self, case: Case, row: str, year: str):
        engine = self.engine
        base, what = engine.view(case)
        plan = engine.base.plan
        g, y = row_index(plan, row), plan.grid.fy_labels.index(year)
        ms = measures(base.overspend[:, g, y], what.overspend[:, g, y])
        changed = case is not engine.base
        fig = fan_figure(in_year(case.plan, what.monthly, what.overspend, g, y),
                         in_year(plan, base.monthly, base.overspend, g, y), changed)  # fmt: skip
        found = drivers(case.plan, what.overspend, what.inputs, row, y, self.labels)
        return ms, changed, fig, driver_list(found), base.overspend.shape[0]

    def _status(self, case: Case, n: int, ms: list[Measure], took: float | None) -> str:
        engine = self.engine
        done = engine.complete(case)
        p = ms[0]
        text = (
            f"{n:,} draws" + ("" if done else f" so far, refining to {engine.draws:,}")
            + f"; seed {engine.seed}; common random numbers. Standard error of the chance of "
            f"overspend {chance_se(p.what_if_se)}, of its change {chance_se(p.diff_se)}."
        )  # fmt: skip
        if took is not None:
            text += f" Updated in {took:.2f} s."
        return text

    # -------------------------------------------------------------- callbacks

    def _register(self) -> None:
        app = self.app

        @app.callback(
            Output("figures", "children"),
            Output("status", "children"),
            Output("fan", "figure"),
            Output("drivers", "children"),
            Output("problems", "children"),
            Output("refine", "disabled"),
            Output("shown", "data"),
            Input(_CONTROL, "value"),
            Input("switches", "value"),
            Input("row", "value"),
            Input("year", "value"),
            Input("refine", "n_intervals"),
            State(_CONTROL, "id"),
            State("shown", "data"),
        )
        def update(values, switches, row, year, _tick, ids, shown):
            return self.update(values, ids, switches, row, year, shown)

        @app.callback(
            Output(_CONTROL, "value"),
            Output("switches", "value"),
            Input("reset", "n_clicks"),
            prevent_initial_call=True,
        )  # fmt: skip
        def reset(_clicks):
            start = {c.key: f"{c.value:g}" for c in self.controls}
            # In the page's order (section by section), which is not the controls' order.
            return [start[o["id"]["name"]] for o in ctx.outputs_list[0]], []

        @app.callback(
            Output("saved", "children"),
            Input("save", "n_clicks"),
            State("save-name", "value"),
            State(_CONTROL, "value"),
            State(_CONTROL, "id"),
            State("switches", "value"),
            prevent_initial_call=True,
        )
        def save(_clicks, name, values, ids, switches):
            return self.save(name, self._values(values, ids), switches)

        for which in DOWNLOADS:
            self._register_download(which)

    def _register_download(self, which: str) -> None:
        # One Download per button: Dash drops the answer of a callback superseded by a newer
        # call for the same output, so two quick clicks on one Download would lose a file.
        @self.app.callback(
            Output(f"download-{which}", "data"),
            Input(f"get-{which}", "n_clicks"),
            State(_CONTROL, "value"),
            State(_CONTROL, "id"),
            State("switches", "value"),
            State("row", "value"),
            State("year", "value"),
            prevent_initial_call=True,
        )
        def download(_clicks, values, ids, switches, row, year):
            return self.download(which, self._values(values, ids), switches, row, year)

    def update(self, values, ids, switches, row, year, shown):
        """Re-simulate on a change (first pass) or show refined figures on a poll."""
        started = time.perf_counter()
        try:
            case, _ = self._case(self._values(values, ids), switches)
        except (ConfigError, UserError) as exc:
            # The page keeps the last figures it could show; the refiner goes on with them.
            return (no_update,) * 4 + (str(exc), True, no_update)
        polled = ctx.triggered_id == "refine"
        if not polled or self.engine.shown_chunks(case) < self.engine.first_chunks:
            self.engine.first_pass(case)  # also makes it the case the background refines
        n = self.engine.shown_chunks(case)
        now = {"key": case.key, "chunks": n, "row": row, "year": year}
        if polled and shown == now:
            raise PreventUpdate  # nothing new since the last poll
        ms, changed, fig, found, draws = self._render(case, row, year)
        took = None if polled else time.perf_counter() - started
        if took is not None:
            LOG.info("what-if updated in %.3f s (%d draws)", took, draws)
        status = self._status(case, draws, ms, took)
        return (figures_table(ms, changed), status, fig, found, "",
                self.engine.complete(case), now)  # fmt: skip

    def save(self, name, values: dict, switches: list[str]) -> str:
        """Save the what-if as a scenario; the message to show."""
        config = self.engine.config
        try:
            case, changes = self._case(values, switches)
            if case.key == "":
                return "Nothing is changed from the config: change an assumption first."
            words = changed_words(config, self.controls, values, switches)
            description = "; ".join(words)[:400] or "what-if from the page"
            path = save_scenario(self.results_dir, config, name, description, changes,
                                 self.engine.draws, self.engine.seed)  # fmt: skip
        except (ConfigError, UserError) as exc:
            return f"Not saved: {exc}"
        return (
            f"Saved {path}. `overspend compare {path} --scenario {name.strip()}` reproduces "
            f"this page's figures at {self.engine.draws:,} draws, seed {self.engine.seed}."
        )

    def download(self, which: str, values: dict, switches: list[str], row: str, year: str):
        """The file a download button asks for."""
        try:
            case, _ = self._case(values, switches)
        except (ConfigError, UserError):
            raise PreventUpdate from None
        engine = self.engine
        if engine.shown_chunks(case) == 0:  # clicked while its first pass is still running
            engine.first_pass(case)
        base, what = engine.view(case)
        plan = engine.base.plan
        g, y = row_index(plan, row), plan.grid.fy_labels.index(year)
        stem = f"what_if_{row}_{year.replace('/', '-')}"
        if which == "png":
            d = in_year(case.plan, what.monthly, what.overspend, g, y)
            png = fan_png(d, self.title, what.overspend.shape[0], engine.seed)
            return dcc.send_bytes(png, f"{stem}.png")
        ms = measures(base.overspend[:, g, y], what.overspend[:, g, y])
        words = changed_words(engine.config, self.controls, values, switches)
        rows = figures_rows(ms, self.title, plan.groups[g].label, year,
                            what.overspend.shape[0], engine.seed, words)  # fmt: skip
        if which == "xlsx":
            return dcc.send_bytes(figures_xlsx(rows), f"{stem}.xlsx")
        return dcc.send_bytes(figures_csv(rows), f"{stem}.csv")
