"""Writing the report's three files for a results folder: :func:`write_report`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from simulator.analysis.movement import cause_split, movement
from simulator.errors import UserError
from simulator.files import check_file, write_file
from simulator.present.charts import RunInfo, chart_style
from simulator.present.charts.files import ChartFiles
from simulator.present.report.blocks import CabinetPage, ChartBlock
from simulator.present.report.cabinet import cabinet_figure, write_cabinet_pdf, write_cabinet_png
from simulator.present.report.document import build_report
from simulator.present.report.drawn import DrawnCharts
from simulator.present.report.html import render_html
from simulator.present.report.load import first_line, load_results
from simulator.present.report.pdf import paginate, render_pdf
from simulator.present.report.xlsx import reserve_sheet, worst_outcomes_sheet, write_xlsx
from simulator.results.reserve import reserve_dataset
from simulator.results.summary import summary_table
from simulator.runs.streamed import results_path

#: What :func:`write_report` writes.
REPORT_FILES = ("report.html", "report.pdf", "summary.xlsx", "summary.pdf", "summary.png")


def _check_out(out: Path, force: bool) -> None:
    """Refuse, before any work, a folder that is a file, or report files the tool may not replace."""
    for path in (out, *out.parents):
        if path.exists() and not path.is_dir():
            raise UserError(
                f"--out {out}: {path} is a file, not a folder (the report writes "
                f"{', '.join(REPORT_FILES)} into a folder)"
            )
    for name in REPORT_FILES:
        check_file(out / name, force)


def write_report(
    results_dir: str | Path,
    out_dir: str | Path | None = None,
    every: bool = False,
    notes: list[str] | None = None,
    force: bool = False,
    target: float | None = None,
    progress: Callable[[int, int], None] | None = None,
    since: str | Path | None = None,
    iterations: bool = False,
) -> list[Path]:
    """Write the report files for a results folder.

    ``report.html``, ``report.pdf`` (whose first page is the one page for
    cabinet), ``summary.xlsx``, and the one page alone as ``summary.pdf`` (A4)
    and ``summary.png``.

    Parameters
    ----------
    results_dir : str or pathlib.Path
        A folder written by ``overspend run`` (holding ``simulation.nc``, and
        perhaps ``sensitivity.nc`` and ``scenarios.nc``).
    out_dir : str or pathlib.Path, optional
        Where to write (default: ``results_dir``).
    every : bool
        Include the charts of every service and year.
    notes : list of str, optional
        Receives a note for each sensitivity or scenario file left out (see
        :func:`load_results`).
    force : bool
        Replace a report the tool wrote there before (files it did not write
        are never replaced).
    target : float, optional
        A chance of overspend to aim for: the extra savings that reach it are
        reported beside those for evens.
    progress : callable, optional
        ``progress(done, total)`` after each chart and page drawn (the slow steps).
    since : str or pathlib.Path, optional
        A previous results folder of the same council: the report adds what
        moved since then (:func:`simulator.analysis.movement.movement`).
    iterations : bool
        Add the Iterations sheet (one row per draw) to ``summary.xlsx``.

    Returns
    -------
    list of pathlib.Path
        The files written, in the order of :data:`REPORT_FILES`.

    Raises
    ------
    UserError
        When the results cannot be read, ``out_dir`` is a file, or a report
        file there is not the tool's, or is and ``force`` is false.
    """
    out = Path(out_dir) if out_dir is not None else Path(results_dir)
    _check_out(out, force)
    ds, sens, scen = load_results(results_dir, notes)
    with ds:  # a lazily opened run keeps its file open until here
        moved = None
        if since is not None:
            try:
                before = load_results(since, [])[0]
            except UserError as exc:
                raise UserError(f"--since: {exc}") from None
            with before:
                moved = movement(before, ds)
                moved = replace(moved, causes=cause_split(before, ds))
        try:
            out.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise UserError(f"--out {out}: cannot make the folder ({first_line(exc)})") from None
        run = RunInfo.from_dataset(ds)
        reserve = reserve_dataset(ds, target)
        table = summary_table(ds)  # once, for the report's tables and the workbook's
        blocks = build_report(ds, sens, scen, every, reserve, moved, table)
        with chart_style():  # measures every word: once, for the progress bar and the PDF
            pages = paginate(blocks)
        step = _Steps(blocks, len(pages), progress)
        drawn = DrawnCharts()  # each chart drawn once, for the HTML and the PDF
        # The charts the run drew (its headline charts; all, after `overspend chart`), when
        # they are the pictures of these results: the HTML embeds them without drawing again.
        folder = results_path(results_dir).parent  # the run folder, whether given a folder or file
        files = ChartFiles(folder / "charts", ds, sens, scen)
        text = render_html(blocks, run, step, drawn, files)
        html_name, pdf_name, xlsx_name, one_pdf, one_png = REPORT_FILES
        summary = next(b.summary for b in blocks if isinstance(b, CabinetPage))
        with chart_style():
            page = cabinet_figure(summary, run)  # once, for summary.pdf and summary.png
        written = [
            write_file(
                out / html_name, lambda p: p.write_text(text, encoding="utf-8"), force=force
            ),
            write_file(
                out / pdf_name,
                lambda p: render_pdf(blocks, run, p, step, drawn, pages),
                force=force,
            ),
            write_file(
                out / xlsx_name,
                lambda p: write_xlsx(
                    ds,
                    p,
                    scen,
                    iterations,
                    extra=(reserve_sheet(reserve), worst_outcomes_sheet),
                    table=table,
                ),
                force=force,
            ),
            write_file(
                out / one_pdf, lambda p: write_cabinet_pdf(summary, run, p, page), force=force
            ),
            write_file(
                out / one_png, lambda p: write_cabinet_png(summary, run, p, fig=page), force=force
            ),
        ]
        step(3)
        return written


class _Steps:
    """Counts the slow steps of writing a report for a progress bar: charts, pages, files."""

    def __init__(self, blocks, pages: int, progress: Callable[[int, int], None] | None) -> None:
        charts_ = sum(isinstance(b, (ChartBlock, CabinetPage)) for b in blocks)
        self.total = charts_ + pages + 3  # + the workbook and the one page
        self.done, self.progress = 0, progress
        if progress is not None:
            progress(0, self.total)

    def __call__(self, n: int = 1) -> None:
        self.done = min(self.done + n, self.total)
        if self.progress is not None:
            self.progress(self.done, self.total)
