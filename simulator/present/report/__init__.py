"""The cabinet-ready report: ``report.html``, ``report.pdf`` and ``summary.xlsx``.

The report is built once as a list of blocks (headings, paragraphs, lists,
tables, charts) and then rendered twice, so the HTML and the PDF say exactly
the same thing:

- HTML: one self-contained file; charts are PNG images embedded as base64 and
  there are no scripts, fonts or links to fetch, so it opens offline in any
  browser and can be e-mailed as it is;
- PDF: A4 pages drawn with matplotlib's own PDF backend, laid out like a
  cabinet paper appendix (running header, page numbers); the charts are drawn
  as vectors onto the pages and all text is real text, so it can be searched
  and copied.

``summary.xlsx`` holds the summary table and monthly percentile tables for
finance teams who work in Excel.

Modules:

- ``load``: reading and checking a run folder's results (also used by ``overspend chart``);
- ``formats``: how the report writes numbers (chances, amounts, counts, ranges);
- ``words``: the headline sentences and the drivers sentence;
- ``blocks``: the block types the report is made of;
- ``cabinet``: the one page for cabinet (the PDF's first page, ``summary.pdf`` and ``.png``);
- ``assumptions``: the "Key assumptions" section, from the run's config;
- ``document``: :func:`build_report`, the report's content in order;
- ``html``, ``pdf``, ``xlsx``: the three files;
- ``write``: :func:`write_report`, which writes them for a results folder.
"""

from simulator.present.report.assumptions import key_assumptions
from simulator.present.report.blocks import (
    Block,
    Bullets,
    CabinetPage,
    ChartBlock,
    Heading,
    PageBreak,
    Paragraph,
    Table,
)
from simulator.present.report.document import HOW_TO_READ, build_report
from simulator.present.report.html import render_html
from simulator.present.report.load import (
    REQUIRED,
    check_results,
    load_results,
    mismatch,
)
from simulator.present.report.pdf import paginate, render_pdf
from simulator.present.report.words import (
    Headline,
    chance_sentence,
    drivers_sentence,
    headline,
    headline_decimals,
    headlines,
    range_sentence,
    year_heading,
)
from simulator.present.report.write import REPORT_FILES, write_report
from simulator.present.report.xlsx import PERCENTILES, monthly_percentiles, write_xlsx
from simulator.runs.streamed import LOAD_BYTES

__all__ = [
    "HOW_TO_READ",
    "LOAD_BYTES",
    "PERCENTILES",
    "REPORT_FILES",
    "REQUIRED",
    "Block",
    "Bullets",
    "CabinetPage",
    "ChartBlock",
    "Heading",
    "Headline",
    "PageBreak",
    "Paragraph",
    "Table",
    "build_report",
    "chance_sentence",
    "check_results",
    "drivers_sentence",
    "headline",
    "headline_decimals",
    "headlines",
    "key_assumptions",
    "load_results",
    "mismatch",
    "monthly_percentiles",
    "paginate",
    "range_sentence",
    "render_html",
    "render_pdf",
    "write_report",
    "write_xlsx",
    "year_heading",
]
