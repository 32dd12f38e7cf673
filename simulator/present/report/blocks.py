"""The report's building blocks: headings, paragraphs, lists, tables, charts and page breaks.

The report is a list of these (see :func:`simulator.present.report.document.build_report`),
rendered once as HTML and once as PDF.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from simulator.present.charts import Chart


@dataclass
class Heading:
    """A section heading (level 1 or 2) or a sub-heading (level 3)."""

    text: str
    level: int = 1


@dataclass
class Paragraph:
    """A paragraph of plain text; ``emphasis`` draws it as a highlighted key message."""

    text: str
    emphasis: bool = False


@dataclass
class Bullets:
    """A list of short items."""

    items: list[str]


@dataclass
class Table:
    """A table: ``align`` is "l" or "r" per column; ``strong`` marks subtotal rows."""

    columns: list[str]
    rows: list[list[str]]
    align: str
    strong: list[bool] = field(default_factory=list)
    widths: list[float] | None = None  # relative column widths for the PDF


@dataclass
class ChartBlock:
    """A chart, drawn as an image in HTML and as vectors in the PDF."""

    chart: Chart


@dataclass
class PageBreak:
    """Start a new page in the PDF (ignored in HTML)."""


@dataclass
class CabinetPage:
    """The one page for cabinet: a whole page of the PDF; in HTML, the same content as blocks.

    ``summary`` is a :class:`simulator.present.report.cabinet.CabinetSummary`.
    """

    summary: Any


Block = Heading | Paragraph | Bullets | Table | ChartBlock | PageBreak | CabinetPage
