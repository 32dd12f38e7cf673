"""Writing the report's three files for a results folder: :func:`write_report`."""

from __future__ import annotations

from pathlib import Path

from simulator.errors import UserError
from simulator.files import check_file, write_file
from simulator.present.charts import RunInfo
from simulator.present.report.document import build_report
from simulator.present.report.html import render_html
from simulator.present.report.load import first_line, load_results
from simulator.present.report.pdf import render_pdf
from simulator.present.report.xlsx import write_xlsx

#: What :func:`write_report` writes.
REPORT_FILES = ("report.html", "report.pdf", "summary.xlsx")


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
) -> list[Path]:
    """Write ``report.html``, ``report.pdf`` and ``summary.xlsx`` for a results folder.

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

    Returns
    -------
    list of pathlib.Path
        The three files written.

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
        try:
            out.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise UserError(f"--out {out}: cannot make the folder ({first_line(exc)})") from None
        run = RunInfo.from_dataset(ds)
        blocks = build_report(ds, sens, scen, every)
        text = render_html(blocks, run)
        html_name, pdf_name, xlsx_name = REPORT_FILES
        return [
            write_file(
                out / html_name, lambda p: p.write_text(text, encoding="utf-8"), force=force
            ),
            write_file(out / pdf_name, lambda p: render_pdf(blocks, run, p), force=force),
            write_file(out / xlsx_name, lambda p: write_xlsx(ds, p), force=force),
        ]
