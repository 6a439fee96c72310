"""A report as a paginated PDF (reportlab platypus): the html's content, readable when printed.

A4 landscape. Every page has a header with the report's title and a footer with "page x of y"; each
section starts with its title (also a PDF bookmark), then its headline figures as cards two abreast (a row never splits, and
a headline figure with its beside figures and notes can be tall),
its table (split across pages with the header row repeated), its charts two abreast (matplotlib PNG
at 200 dpi, printed at their drawn size so chart text is 10 pt) and its notes. No text is smaller than 9 pt.

Text is set in DejaVu Sans, taken from matplotlib's own files (so it is there wherever cosell is
installed) and embedded as a subset: accented names print as given. Values are formatted by the
same functions as the html (:mod:`cosell.reports.html`), so both print the same text. reportlab's
``invariant`` mode fixes the creation date and document id: the same report gives the same bytes.
"""

from __future__ import annotations

import functools
import io
from collections.abc import Callable
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import matplotlib
from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    Flowable,
    Image,
    KeepTogether,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from cosell.reports.cells import CellText
from cosell.reports.charts import PDF_FIGURE_SIZE, chart_png
from cosell.reports.html import VERDICT_COLOURS, FigureText, format_figure, table_cells
from cosell.reports.model import Alert, Chart, Report, Section
from cosell.reports.model import Table as ReportTable

PAGE_SIZE = landscape(A4)  # a dashboard and a QBR read like slides; wide league tables fit
MARGIN_X = 14 * mm
MARGIN_TOP = 20 * mm
MARGIN_BOTTOM = 17 * mm
FRAME_PADDING = 6  # platypus frames keep 6 points inside the margins
FRAME_WIDTH = PAGE_SIZE[0] - 2 * (MARGIN_X + FRAME_PADDING)
INK = colors.HexColor("#1d1d1f")
MUTED = colors.HexColor("#5b5b60")
RULE = colors.HexColor("#d9d9de")
CARD = colors.HexColor("#f6f7f9")
HEADER_FILL = colors.HexColor("#eceef2")
NOTE = "#7a4b00"
ALERT = colors.HexColor("#b3261e")
ALERT_FILL = colors.HexColor("#fdecea")
FONT, BOLD = "CosellSans", "CosellSans-Bold"


@functools.cache
def _register_fonts() -> None:
    # DejaVu ships with matplotlib (a dependency already): no system font needed, any machine.
    fonts = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
    pdfmetrics.registerFont(TTFont(FONT, str(fonts / "DejaVuSans.ttf")))
    pdfmetrics.registerFont(TTFont(BOLD, str(fonts / "DejaVuSans-Bold.ttf")))
    pdfmetrics.registerFontFamily(FONT, normal=FONT, bold=BOLD, italic=FONT, boldItalic=BOLD)


@functools.cache
def _styles() -> dict[str, ParagraphStyle]:
    _register_fonts()
    base = ParagraphStyle("body", fontName=FONT, fontSize=9.5, leading=12.5, textColor=INK)

    def style(name: str, **kw: Any) -> ParagraphStyle:
        return ParagraphStyle(name, parent=base, **kw)

    return {
        "body": base,
        "title": style("title", fontName=BOLD, fontSize=18, leading=22, spaceAfter=4),
        "subtitle": style("subtitle", fontSize=10.5, leading=14, textColor=MUTED, spaceAfter=8),
        "h2": style("h2", fontName=BOLD, fontSize=13, leading=16, spaceBefore=14, spaceAfter=6),
        "h3": style("h3", fontName=BOLD, fontSize=10, leading=13, spaceBefore=8, spaceAfter=3),
        "fact": style("fact", fontSize=9, leading=11.5, textColor=MUTED),
        "label": style("label", fontName=BOLD, fontSize=9.5, leading=12, textColor=MUTED),
        "value": style("value", fontName=BOLD, fontSize=15, leading=19),
        "missing": style("missing", fontName=BOLD, fontSize=11, leading=14, textColor=MUTED),
        "alert_value": style("alert_value", fontName=BOLD, fontSize=15, leading=19, textColor=ALERT),
        "alert": style("alert", fontSize=10, leading=13, textColor=colors.HexColor("#5f1410")),
        "small": style("small", fontSize=9, leading=11.5, textColor=MUTED),
        "note": style("note", fontSize=9, leading=11.5, textColor=colors.HexColor(NOTE)),
        "beside": style("beside", fontSize=9, leading=11.5),
        "cell": style("cell", fontSize=9, leading=11),
        "cell_num": style("cell_num", fontSize=9, leading=11, alignment=TA_RIGHT),
        "head": style("head", fontName=BOLD, fontSize=9, leading=11),
        "head_num": style("head_num", fontName=BOLD, fontSize=9, leading=11, alignment=TA_RIGHT),
        "bullet": style(
            "bullet",
            fontSize=9,
            leading=11.5,
            textColor=MUTED,
            leftIndent=10,
            bulletIndent=0,
            bulletFontName=FONT,
        ),
    }


def _p(text: str, style: str) -> Paragraph:
    # Paragraph reads its text as markup: escape every piece of report text.
    return Paragraph(escape(text), _styles()[style])


def _band_markup(f: FigureText) -> str:
    parts = []
    if f.band:
        parts.append(f'<font color="#5b5b60">{escape(f.band)}</font>')
    if f.verdict:
        colour = VERDICT_COLOURS.get(f.verdict, "#1d1d1f")
        parts.append(f'<font name="{BOLD}" color="{colour}">{escape(f.verdict)}</font>')
    return " ".join(parts)


def _card(f: FigureText, width: float, alert: bool = False) -> Table:
    s = _styles()
    value = "value" if f.has_value else "missing"
    rows: list[Any] = [_p(f.label, "label"), _p(f.value, "alert_value" if alert else value)]
    if f.deals:
        rows.append(_p(f.deals, "small"))
    if f.band or f.verdict:
        rows.append(Paragraph(_band_markup(f), s["small"]))
    if f.note:
        rows.append(_p(f.note, "note"))
    for b in f.beside:
        line = f"{escape(b.label)}: <b>{escape(b.value)}</b>"
        if b.deals:
            line += f' <font color="#5b5b60">({escape(b.deals)})</font>'
        if b.band or b.verdict:
            line += "<br/>" + _band_markup(b)
        if b.note:
            line += f'<br/><font color="{NOTE}">{escape(b.note)}</font>'
        rows.append(Paragraph(line, s["beside"]))
    card = Table([[r] for r in rows], colWidths=[width])
    commands: list[Any] = [
        ("BACKGROUND", (0, 0), (-1, -1), CARD),
        ("BOX", (0, 0), (-1, -1), 0.6, RULE),
        ("LEFTPADDING", (0, 0), (-1, -1), 8),
        ("RIGHTPADDING", (0, 0), (-1, -1), 8),
        ("TOPPADDING", (0, 0), (-1, -1), 1.5),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5),
        ("TOPPADDING", (0, 0), (-1, 0), 7),
        ("BOTTOMPADDING", (0, -1), (-1, -1), 7),
    ]
    first_beside = len(rows) - len(f.beside)
    if f.beside:  # a rule between the figure and the figures beside it, as in the html
        commands.append(("LINEABOVE", (0, first_beside), (-1, first_beside), 0.5, RULE))
        commands.append(("TOPPADDING", (0, first_beside), (-1, first_beside), 5))
    if alert:  # a raised alert is about this figure: a red frame on a light red card
        commands += [("BACKGROUND", (0, 0), (-1, -1), ALERT_FILL), ("BOX", (0, 0), (-1, -1), 1.5, ALERT)]
    card.setStyle(TableStyle(commands))
    return card


def _cards(
    figures: list[FigureText], marked: frozenset[str] = frozenset(), per_row: int = 2
) -> list[Flowable]:
    """Cards in rows; each row its own flowable, so the rows of a long section can go on new pages."""
    gap = 10.0
    width = (FRAME_WIDTH - gap * (per_row - 1)) / per_row
    cards: list[Any] = [_card(f, width, f.key in marked) for f in figures]
    cards += [""] * (-len(cards) % per_row)
    rows: list[Flowable] = []
    for i in range(0, len(cards), per_row):
        row = Table(
            [cards[i : i + per_row]], colWidths=[width + gap] * (per_row - 1) + [width], hAlign="LEFT"
        )
        row.setStyle(
            TableStyle(
                [
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                    ("LEFTPADDING", (0, 0), (-1, -1), 0),
                    ("RIGHTPADDING", (0, 0), (-1, -1), gap),
                    ("RIGHTPADDING", (-1, 0), (-1, -1), 0),
                    ("TOPPADDING", (0, 0), (-1, -1), 0),
                    ("BOTTOMPADDING", (0, 0), (-1, -1), gap),
                ]
            )
        )
        rows.append(row)
    return rows


def _text_width(text: str, font: str = FONT) -> float:
    return float(pdfmetrics.stringWidth(text, font, 9))


def _widest_word(text: str) -> float:
    return max((_text_width(w) for w in text.split()), default=0.0)


def _cell_widths(cell: CellText, whole: bool) -> tuple[float, float]:
    """A cell's natural width (every line unbroken) and the least it needs: a number, a date or an
    id (``whole``) on one line, text wrapped at spaces but no word broken; a line printed under it
    may wrap after its label, its value is kept whole unless it is free text."""
    natural = _text_width(cell.text)
    least = natural if whole else _widest_word(cell.text)
    for line in cell.lines:
        label = f"{line.label}: "
        whole_line = _text_width(label) + _text_width(line.text)
        natural = max(natural, whole_line)
        if line.whole and whole_line <= _SHORT_LINE:  # "Dated: 2026-10-31" reads best on one line
            least = max(least, whole_line)
            continue
        value = _text_width(line.text) if line.whole else _widest_word(line.text)
        least = max(least, _widest_word(label), value)
    return natural, least


_SHORT_LINE = 110.0  # points: a label and a whole value this wide stay on one line


def _column_widths(
    headers: list[str], rows: list[list[CellText]], aligns: list[str], keep_words: bool = False
) -> list[float]:
    """Numbers, dates and ids on one line at their widest, headers wrapped at words, text wrapped
    at spaces (``keep_words``, a table of ids: with no word broken either)."""
    pad = 14.0  # the cell's 4 + 4 points of padding, and room for the widths' rounding
    natural = []
    least = []
    for i, header in enumerate(headers):
        widths = [_cell_widths(row[i], bool(aligns[i])) for row in rows]
        widest = max((n for n, _ in widths), default=0.0)
        needed = max((m for _, m in widths), default=0.0)
        word = max((_text_width(w, BOLD) for w in header.split()), default=0.0)
        natural.append(max(widest, _text_width(header, BOLD)) + pad)
        least.append(
            (max(needed, word) if aligns[i] else max(needed if keep_words else 0.0, word, 48.0)) + pad
        )
    if sum(natural) <= FRAME_WIDTH:
        return natural
    spare = FRAME_WIDTH - sum(least)
    if spare <= 0:  # too wide to print whole: scale everything to the frame
        return [w * FRAME_WIDTH / sum(least) for w in least]
    # Every column gets its least width plus a share of the room left, in proportion to how much
    # more it would like (long text, headers that would rather not wrap).
    wants = [n - m for n, m in zip(natural, least, strict=True)]
    total_want = sum(wants) or 1.0
    return [m + spare * w / total_want for m, w in zip(least, wants, strict=True)]


def _cell(cell: CellText, style: str) -> Paragraph:
    """A table cell: its value, then each value printed under it on a line of its own."""
    markup = escape(cell.text)
    for line in cell.lines:
        # A whole value keeps its spaces unbreakable (reportlab breaks lines at spaces, never at a no-break space).
        text = line.text.replace(" ", "\u00a0") if line.whole else line.text
        markup += f'<br/><font color="#5b5b60">{escape(line.label)}:</font> {escape(text)}'
    return Paragraph(markup, _styles()[style])


def _table(table: ReportTable, currency: str) -> Table:
    """A section's table: the header row repeats on every page the table runs over."""
    headers, rows, aligns = table_cells(table, currency)
    widths = _column_widths(headers, rows, aligns, any(c.unit == "id" for c in table.columns))
    head = [_p(h, "head_num" if a == "num" else "head") for h, a in zip(headers, aligns, strict=True)]
    body = [
        [_cell(c, "cell_num" if a == "num" else "cell") for c, a in zip(row, aligns, strict=True)]
        for row in rows
    ]
    grid = Table([head, *body], colWidths=widths, repeatRows=1, hAlign="LEFT")
    grid.setStyle(
        TableStyle(
            [
                ("BACKGROUND", (0, 0), (-1, 0), HEADER_FILL),
                ("LINEBELOW", (0, 0), (-1, -1), 0.5, RULE),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 4),
                ("RIGHTPADDING", (0, 0), (-1, -1), 4),
                ("TOPPADDING", (0, 0), (-1, -1), 3),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
            ]
        )
    )
    return grid


def _chart(chart: Chart, currency: str) -> list[Flowable]:
    width, height = PDF_FIGURE_SIZE[0] * 72, PDF_FIGURE_SIZE[1] * 72  # points: printed at the drawn size
    image = Image(io.BytesIO(chart_png(chart, currency)), width=width, height=height, hAlign="LEFT")
    return [_p(chart.title, "h3"), image]


def _charts(charts: tuple[Chart, ...], currency: str) -> list[Flowable]:
    """Charts two abreast, each pair kept on one page."""
    cells = [_chart(c, currency) for c in charts]
    rows = []
    for i in range(0, len(cells), 2):
        pair: list[Any] = cells[i : i + 2]
        rows.append(pair + [""] * (2 - len(pair)))
    out: list[Flowable] = []
    for row in rows:
        grid = Table([row], colWidths=[FRAME_WIDTH / 2] * 2, hAlign="LEFT")
        grid.setStyle(
            TableStyle(
                [
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                    ("LEFTPADDING", (0, 0), (-1, -1), 0),
                    ("RIGHTPADDING", (0, 0), (-1, -1), 0),
                    ("TOPPADDING", (0, 0), (-1, -1), 0),
                    ("BOTTOMPADDING", (0, 0), (-1, -1), 6),
                ]
            )
        )
        out.append(grid)
    return out


class _SectionTitle(Paragraph):  # type: ignore[misc]
    """A section title; the document makes it a bookmark."""

    def __init__(self, text: str, key: str) -> None:
        super().__init__(escape(text), _styles()["h2"])
        self.bookmark_key = key
        self.bookmark_text = text


def _section(section: Section, currency: str, marked: frozenset[str] = frozenset()) -> list[Flowable]:
    blocks: list[Flowable] = []
    if section.figures:
        blocks += _cards([format_figure(f, currency) for f in section.figures], marked)
    if section.table is not None:
        blocks += [_table(section.table, currency), Spacer(1, 6)]
    blocks += _charts(section.charts, currency)
    for note in section.notes:
        blocks.append(Paragraph(escape(note), _styles()["bullet"], bulletText="•"))
    # A title is never left alone at the foot of a page: it goes with the first block after it.
    return [KeepTogether([_SectionTitle(section.title, section.key), *blocks[:1]]), *blocks[1:]]


def _front(report: Report) -> list[Flowable]:
    story: list[Flowable] = [_p(report.title, "title")]
    if report.subtitle:
        story.append(_p(report.subtitle, "subtitle"))
    if report.facts:
        facts = Table(
            [[_p(label, "fact"), _p(value, "body")] for label, value in report.facts],
            colWidths=[32 * mm, FRAME_WIDTH - 32 * mm],
            hAlign="LEFT",
        )
        facts.setStyle(
            TableStyle(
                [
                    ("LEFTPADDING", (0, 0), (-1, -1), 0),
                    ("TOPPADDING", (0, 0), (-1, -1), 0.5),
                    ("BOTTOMPADDING", (0, 0), (-1, -1), 0.5),
                ]
            )
        )
        story.append(facts)
    for alert in report.raised:
        story.append(Spacer(1, 6))
        story.append(_alert(alert))
    return story


def _alert(alert: Alert) -> Table:
    """A raised alert: its label in bold and its text, in a red-edged box the width of the page."""
    text = f"<b>{escape(alert.label)}:</b> {escape(alert.text)}"
    box = Table([[Paragraph(text, _styles()["alert"])]], colWidths=[FRAME_WIDTH], hAlign="LEFT")
    box.setStyle(
        TableStyle(
            [
                ("BACKGROUND", (0, 0), (-1, -1), ALERT_FILL),
                ("LINEBEFORE", (0, 0), (0, -1), 4, ALERT),
                ("LEFTPADDING", (0, 0), (-1, -1), 10),
                ("TOPPADDING", (0, 0), (-1, -1), 6),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 6),
            ]
        )
    )
    return box


def _canvas_maker(report: Report) -> Callable[..., Canvas]:
    """A canvas that draws each page's header and footer once the page count is known."""

    class _PagedCanvas(Canvas):  # type: ignore[misc]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._pages: list[dict[str, Any]] = []

        def showPage(self) -> None:
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            total = len(self._pages)
            for state in self._pages:
                self.__dict__.update(state)
                self._furniture(total)
                super().showPage()
            super().save()

        def _furniture(self, total: int) -> None:
            width, height = PAGE_SIZE
            left, right = MARGIN_X + FRAME_PADDING, width - MARGIN_X - FRAME_PADDING
            self.saveState()
            self.setFont(FONT, 9)
            self.setFillColor(MUTED)
            self.drawString(left, height - 13 * mm, report.title)
            self.setStrokeColor(RULE)
            self.setLineWidth(0.6)
            self.line(left, height - 15 * mm, right, height - 15 * mm)
            self.line(left, 12 * mm, right, 12 * mm)
            self.drawString(left, 8 * mm, f"cosell · {report.currency}")
            self.drawRightString(right, 8 * mm, f"page {self._pageNumber} of {total}")
            self.restoreState()

    return _PagedCanvas


class _Document(SimpleDocTemplate):  # type: ignore[misc]
    def afterFlowable(self, flowable: Flowable) -> None:
        if isinstance(flowable, _SectionTitle):
            self.canv.bookmarkPage(flowable.bookmark_key)
            self.canv.addOutlineEntry(flowable.bookmark_text, flowable.bookmark_key, level=0)


def render_pdf(report: Report) -> bytes:
    """The report as PDF bytes; the same report gives byte-identical bytes."""
    _register_fonts()
    buffer = io.BytesIO()
    doc = _Document(
        buffer,
        pagesize=PAGE_SIZE,
        leftMargin=MARGIN_X,
        rightMargin=MARGIN_X,
        topMargin=MARGIN_TOP,
        bottomMargin=MARGIN_BOTTOM,
        title=report.title,
        subject=report.subtitle,
        author="cosell",
        creator="cosell",
        invariant=1,
    )
    story = _front(report)
    for section in report.sections:
        story += _section(section, report.currency, report.alert_figures)
    doc.build(story, canvasmaker=_canvas_maker(report))
    return buffer.getvalue()
