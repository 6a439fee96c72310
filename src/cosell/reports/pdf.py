"""A report as a paginated PDF (reportlab platypus): the html's content, readable when printed.

A4 landscape. Every page has a header with the report's title, its period and as-of instant, and a
footer with "page x of y"; each section starts with its title (also a PDF bookmark), then its
headline figures: four or more (a dashboard's four numbers) in one row of cards, each with its
benchmarked figure, so all of them print on the first page, and the other figures beside them in a
table under the row; fewer as cards two abreast with everything beside them (a row never splits),
its table (split across pages with the header row repeated), its charts two abreast (matplotlib PNG
at 200 dpi, printed at their drawn size so chart text is 10 pt) and its notes. No text is smaller than 9 pt.

Text from data is shown, never obeyed (:func:`cosell.shown.visible`, as in the html and on the
terminal: :func:`cosell.reports.pdf_figures.paragraph_markup` for paragraphs, the same mapping for
the page header, the bookmarks and the document's properties; charts in :mod:`cosell.reports.charts`).
Text is set in DejaVu Sans, taken from matplotlib's own files (so it is there wherever cosell is
installed) and embedded as a subset: accented names print as given. Values are formatted by the
same functions as the html (:mod:`cosell.reports.html`), so both print the same text. reportlab's
``invariant`` mode fixes the creation date and document id: the same report gives the same bytes.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

from reportlab.lib.units import mm
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

from cosell.instants import display_instant
from cosell.report_model import Alert, Chart, Report, Section
from cosell.report_model import Table as ReportTable
from cosell.reports.cells import CellText
from cosell.reports.charts import PDF_FIGURE_SIZE, chart_png, chart_size
from cosell.reports.html import format_figure, table_cells
from cosell.reports.pdf_figures import (
    ALERT,
    ALERT_FILL,
    FRAME_PADDING,
    FRAME_WIDTH,
    HEADER_FILL,
    MARGIN_BOTTOM,
    MARGIN_TOP,
    MARGIN_X,
    MUTED,
    PAGE_SIZE,
    RULE,
    figure_blocks,
    para,
    paragraph_markup,
    styles,
)
from cosell.reports.typefaces import BOLD, FONT, draw_text, register_fonts, text_width
from cosell.shown import visible


def _text_width(text: str, font: str = FONT) -> float:
    # Measured as printed: a zero-width space from data takes the width of the U+FFFD it prints as.
    return text_width(text, font, 9)


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
_PAD = 14.0  # points: a cell's 4 + 4 points of padding, and room for the widths' rounding
_NARROWEST_TEXT = 12.0  # points (two letters): the least a text column is squeezed to, numbers whole


def _width_bounds(
    headers: list[str], rows: list[list[CellText]], aligns: list[str], keep_words: bool
) -> tuple[list[float], list[float], list[float]]:
    """Each column's natural width, its least (headers' words whole too) and its least with every
    value and word of data whole, header words broken if need be."""
    natural = []
    least = []
    unbroken = []
    for i, header in enumerate(headers):
        widths = [_cell_widths(row[i], bool(aligns[i])) for row in rows]
        widest = max((n for n, _ in widths), default=0.0)
        needed = max((m for _, m in widths), default=0.0)
        word = max((_text_width(w, BOLD) for w in header.split()), default=0.0)
        natural.append(max(widest, _text_width(header, BOLD)) + _PAD)
        least.append(
            (max(needed, word) if aligns[i] else max(needed if keep_words else 0.0, word, 48.0)) + _PAD
        )
        unbroken.append((needed if aligns[i] else max(needed, word, 48.0)) + _PAD)
    return natural, least, unbroken


def _column_widths(
    headers: list[str], rows: list[list[CellText]], aligns: list[str], keep_words: bool = False
) -> list[float]:
    """Numbers, dates and ids on one line at their widest, headers wrapped at words, text wrapped
    at spaces (``keep_words``, a table of ids: with no word broken either)."""
    natural, least, unbroken = _width_bounds(headers, rows, aligns, keep_words)
    if sum(natural) <= FRAME_WIDTH:
        return natural
    spare = FRAME_WIDTH - sum(least)
    if spare <= 0 and sum(unbroken) < FRAME_WIDTH:
        # The headers' long words ("partner-sourced") are what does not fit: a header word breaks
        # before a value does (a quarter "2027-Q3" in a text column printed as "202 / 7-Q / 3"). The
        # room left goes to the headers, in proportion to how much of their longest word is missing.
        short = [max(m - u, 0.0) for m, u in zip(least, unbroken, strict=True)]
        room = (FRAME_WIDTH - sum(unbroken)) / (sum(short) or 1.0)
        return [u + s * room for u, s in zip(unbroken, short, strict=True)]
    if spare <= 0:
        # Too wide to print whole (many columns, a word longer than its column): numbers, dates
        # and ids keep their width, and the text columns share the room left, their words broken
        # if need be; only when even that leaves them too little is everything scaled to the frame.
        room = FRAME_WIDTH - sum(m for m, a in zip(least, aligns, strict=True) if a)
        text = sum(m for m, a in zip(least, aligns, strict=True) if not a)
        if text and room >= (_NARROWEST_TEXT + _PAD) * aligns.count(""):
            return [m if a else m * room / text for m, a in zip(least, aligns, strict=True)]
        return [w * FRAME_WIDTH / sum(least) for w in least]
    # Every column gets its least width plus a share of the room left, in proportion to how much
    # more it would like (long text, headers that would rather not wrap).
    wants = [n - m for n, m in zip(natural, least, strict=True)]
    total_want = sum(wants) or 1.0
    return [m + spare * w / total_want for m, w in zip(least, wants, strict=True)]


def _cell(cell: CellText, style: str) -> Paragraph:
    """A table cell: its value, then each value printed under it on a line of its own."""
    markup = paragraph_markup(cell.text)
    for line in cell.lines:
        # A whole value keeps its spaces unbreakable (reportlab breaks lines at spaces, never at a no-break space).
        text = line.text.replace(" ", "\u00a0") if line.whole else line.text
        markup += (
            f'<br/><font color="#5b5b60">{paragraph_markup(line.label)}:</font> {paragraph_markup(text)}'
        )
    return Paragraph(markup, styles()[style])


def _column_groups(
    headers: list[str], rows: list[list[CellText]], aligns: list[str], keep_words: bool
) -> list[list[int]]:
    """The columns of each grid a table prints as: all of them when its values fit the page whole;
    else the row's key (a leading rank and the first column that is no number: the id or name)
    and as many further columns as fit, then the key again with the next ones, and so on. Four
    amounts of 25 digits did not fit beside each other: every column was scaled to the page and
    each amount split over two lines ("1,234,567,890,123,456," over "789,012,345.67")."""
    _, _, whole = _width_bounds(headers, rows, aligns, keep_words)
    every = list(range(len(headers)))
    if sum(whole) <= FRAME_WIDTH:
        return [every]
    key = [0]
    while aligns[key[-1]] == "num" and len(key) < len(headers) - 1:
        key.append(len(key))
    room = FRAME_WIDTH - sum(whole[i] for i in key)
    groups: list[list[int]] = [[]]
    for i in every[len(key) :]:
        if groups[-1] and sum(whole[j] for j in groups[-1]) + whole[i] > room:
            groups.append([])
        groups[-1].append(i)
    if len(groups) == 1 or any(sum(whole[j] for j in g) > room for g in groups):
        return [every]  # a column wider than the page beside the key: scaled as before
    return [key + g for g in groups]


def _tables(table: ReportTable, currency: str) -> list[Flowable]:
    """A section's table, as one grid or, when its values cannot all print whole side by side, as
    several (:func:`_column_groups`), each repeating the row's key."""
    headers, rows, aligns = table_cells(table, currency)
    keep_words = any(c.unit == "id" for c in table.columns)
    out: list[Flowable] = []
    for n, columns in enumerate(_column_groups(headers, rows, aligns, keep_words)):
        if n:
            out += [
                Spacer(1, 6),
                para("Continued: the same rows, with the columns that did not fit beside", "small"),
            ]
        out.append(
            _table(
                [headers[i] for i in columns],
                [[row[i] for i in columns] for row in rows],
                [aligns[i] for i in columns],
                keep_words,
            )
        )
    return out


def _table(headers: list[str], rows: list[list[CellText]], aligns: list[str], keep_words: bool) -> Table:
    """A grid of a section's table: the header row repeats on every page the table runs over."""
    widths = _column_widths(headers, rows, aligns, keep_words)
    head = [para(h, "head_num" if a == "num" else "head") for h, a in zip(headers, aligns, strict=True)]
    body = [
        [_cell(c, "cell_num" if a == "num" else "cell") for c, a in zip(row, aligns, strict=True)]
        for row in rows
    ]
    grid = Table([head, *body], colWidths=widths, repeatRows=1, hAlign="LEFT", splitInRow=1)
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
    size = chart_size(chart, PDF_FIGURE_SIZE)
    width, height = size[0] * 72, size[1] * 72  # points: printed at the drawn size
    image = Image(io.BytesIO(chart_png(chart, currency)), width=width, height=height, hAlign="LEFT")
    return [para(chart.title, "h3"), image]


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
        super().__init__(paragraph_markup(text), styles()["h2"])
        self.bookmark_key = key
        self.bookmark_text = visible(text)  # the viewer's outline shows it as text too


def _section(section: Section, currency: str, marked: frozenset[str] = frozenset()) -> list[Flowable]:
    blocks: list[Flowable] = []
    blocks += figure_blocks([format_figure(f, currency) for f in section.figures], marked)
    if section.table is not None:
        blocks += [*_tables(section.table, currency), Spacer(1, 6)]
    blocks += _charts(section.charts, currency)
    for number, text in section.clauses:
        blocks.append(Paragraph(paragraph_markup(text), styles()["clause"], bulletText=number))
    for note in section.notes:
        blocks.append(Paragraph(paragraph_markup(note), styles()["bullet"], bulletText="•"))
    # A title is never left alone at the foot of a page: it goes with the first block after it.
    return [KeepTogether([_SectionTitle(section.title, section.key), *blocks[:1]]), *blocks[1:]]


def _front(report: Report) -> list[Flowable]:
    story: list[Flowable] = [para(report.title, "title")]
    if report.subtitle:
        story.append(para(report.subtitle, "subtitle"))
    if report.facts:
        facts = Table(
            [[para(label, "fact"), para(value, "body")] for label, value in report.facts],
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
    if report.coverage is not None and report.coverage.note:
        story.append(Spacer(1, 6))
        story.append(
            Paragraph(f"<b>Note:</b> {paragraph_markup(report.coverage.note)}", styles()["coverage"])
        )
    for alert in report.raised:
        story.append(Spacer(1, 6))
        story.append(_alert(alert))
    return story


def running_header(report: Report) -> tuple[str, str]:
    """The header every page carries: the title on the left; on the right the period and the
    as-of instant, so a loose page still says what it covers.

    >>> from datetime import UTC, datetime
    >>> running_header(Report("cfo", "CFO dashboard", "", "USD", (("Period", "2026-Q3 (2026-07-01 to 2026-09-30)"),),
    ...                       as_of=datetime(2026, 11, 1, tzinfo=UTC)))
    ('CFO dashboard', '2026-Q3 · as of 2026-11-01 00:00:00 UTC')
    """
    if report.running:
        return report.title, report.running
    period = report.coverage.period if report.coverage is not None else ""
    for label, value in report.facts:
        if not period and label.lower() == "period" and value.split():
            period = value.split()[0]
    parts = [period] if period else []
    if report.as_of is not None:
        parts.append(f"as of {display_instant(report.as_of)}")
    return report.title, " · ".join(parts)


def _alert(alert: Alert) -> Table:
    """A raised alert: its label in bold and its text, in a red-edged box the width of the page."""
    text = f"<b>{paragraph_markup(alert.label)}:</b> {paragraph_markup(alert.text)}"
    box = Table([[Paragraph(text, styles()["alert"])]], colWidths=[FRAME_WIDTH], hAlign="LEFT")
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
    # Drawn as strings, not paragraphs: shown here, as paragraph_markup shows the rest.
    title, period = (visible(text) for text in running_header(report))

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
            self.setFillColor(MUTED)
            draw_text(self, left, height - 13 * mm, title, FONT, 9)  # a statement's title names its partner
            if period:
                draw_text(self, right, height - 13 * mm, period, FONT, 9, right=True)
            self.setStrokeColor(RULE)
            self.setLineWidth(0.6)
            self.line(left, height - 15 * mm, right, height - 15 * mm)
            self.line(left, 12 * mm, right, 12 * mm)
            self.setFont(FONT, 9)
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
    register_fonts()
    buffer = io.BytesIO()
    doc = _Document(
        buffer,
        pagesize=PAGE_SIZE,
        leftMargin=MARGIN_X,
        rightMargin=MARGIN_X,
        topMargin=MARGIN_TOP,
        bottomMargin=MARGIN_BOTTOM,
        # The viewer's window title and document properties show them as text for people too.
        title=visible(report.title),
        subject=visible(report.subtitle),
        author="cosell",
        creator="cosell",
        invariant=1,
    )
    story = _front(report)
    for section in report.sections:
        story += _section(section, report.currency, report.alert_figures)
    doc.build(story, canvasmaker=_canvas_maker(report))
    return buffer.getvalue()
