"""The pdf's page geometry, fonts and paragraph styles, and how it prints headline figures.

Shared by :mod:`cosell.reports.pdf`: the page constants and :func:`styles`, and the flowables of a
section's figures: cards (value, deal count, band and verdict, note, the figures beside it) and, for
a dashboard's four numbers, one row of cards with the table of the figures beside them under it
(:func:`figure_blocks`).
"""

from __future__ import annotations

import functools
from typing import Any

from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Paragraph, Spacer, Table, TableStyle

from cosell.reports.html import VERDICT_COLOURS, FigureText
from cosell.reports.typefaces import BOLD, FONT, markup, register_fonts, text_width

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


@functools.cache
def styles() -> dict[str, ParagraphStyle]:
    register_fonts()
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
        "coverage": style(
            "coverage",
            fontSize=10,
            leading=13,
            textColor=colors.HexColor("#5a3000"),
            backColor=colors.HexColor("#fff4e5"),
            borderColor=colors.HexColor("#b35c00"),
            borderWidth=0.8,
            borderPadding=5,
            leftIndent=5,  # the box's border then lines up with the margin, not outside it
            rightIndent=5,
            spaceBefore=4,
            spaceAfter=6,
        ),
        "beside": style("beside", fontSize=9, leading=11.5),
        "cell": style("cell", fontSize=9, leading=11),
        "cell_num": style("cell_num", fontSize=9, leading=11, alignment=TA_RIGHT),
        "head": style("head", fontName=BOLD, fontSize=9, leading=11),
        "head_num": style("head_num", fontName=BOLD, fontSize=9, leading=11, alignment=TA_RIGHT),
        # A numbered sentence (the rules appendix): the number hangs in the margin of its text.
        "clause": style(
            "clause",
            fontSize=10,
            leading=13.5,
            leftIndent=28,
            bulletIndent=0,
            bulletFontName=BOLD,
            spaceAfter=6,
        ),
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


def paragraph_markup(text: str) -> str:
    r"""Report text as a reportlab Paragraph reads it (markup): shown, never obeyed
    (:func:`cosell.shown.visible`, as in the html and on the terminal), then escaped. A pdf viewer
    copying or searching the text applies a bidi override in it (U+202E would make the amounts
    beside a name read backwards) and the font draws a zero-width space as nothing. A run of
    characters DejaVu lacks (a name in Chinese, Japanese or Korean) is set in the CJK font
    (:func:`cosell.reports.typefaces.markup`).

    >>> paragraph_markup("Ac\u200bme & Söhne \u202e<b>")
    'Ac\ufffdme &amp; Söhne \ufffd&lt;b&gt;'
    >>> paragraph_markup("Sony 株式会社")
    'Sony <font name="CosellCJK">株式会社</font>'
    """
    return markup(text)


def para(text: str, style: str) -> Paragraph:
    """A paragraph of report text (:func:`paragraph_markup`) in one of :func:`styles`."""
    return Paragraph(paragraph_markup(text), styles()[style])


def _band_markup(f: FigureText) -> str:
    parts = []
    if f.band:
        parts.append(f'<font color="#5b5b60">{paragraph_markup(f.band)}</font>')
    if f.verdict:
        colour = VERDICT_COLOURS.get(f.verdict, "#1d1d1f")
        parts.append(f'<font name="{BOLD}" color="{colour}">{paragraph_markup(f.verdict)}</font>')
    return " ".join(parts)


def _beside_line(b: FigureText) -> Paragraph:
    """A figure shown beside another, on a card: label, value, deals, band and verdict, note."""
    line = f"{paragraph_markup(b.label)}: <b>{paragraph_markup(b.value)}</b>"
    if b.deals:
        line += f' <font color="#5b5b60">({paragraph_markup(b.deals)})</font>'
    if b.band or b.verdict:
        line += "<br/>" + _band_markup(b)
    if b.note:
        line += f'<br/><font color="{NOTE}">{paragraph_markup(b.note)}</font>'
    return Paragraph(line, styles()["beside"])


def _value_para(text: str, style: str, width: float) -> Paragraph:
    """A card's value in its large type, smaller (never under 9 pt) when its longest word would not
    fit the card: a number is never split ("123,456,792,912.8" over "2 USD")."""
    s = styles()[style]
    widest = max((text_width(w, s.fontName, s.fontSize) for w in text.split()), default=0.0)
    if widest <= width:
        return para(text, style)
    size = max(9.0, s.fontSize * width / widest)
    smaller = ParagraphStyle(
        f"{style}_fitted", parent=s, fontSize=size, leading=size * s.leading / s.fontSize
    )
    return Paragraph(paragraph_markup(text), smaller)


def _card(f: FigureText, width: float, beside: int | None = None, alert: bool = False) -> Table:
    """A figure's card; ``beside`` limits how many of its beside figures it shows (all: None); a
    raised alert about the figure (``alert``) gives it a red frame on a light red card."""
    s = styles()
    shown = f.beside if beside is None else f.beside[:beside]
    value = "alert_value" if alert else "value" if f.has_value else "missing"
    rows: list[Any] = [para(f.label, "label"), _value_para(f.value, value, width - 16)]
    if f.deals:
        rows.append(para(f.deals, "small"))
    if f.band or f.verdict:
        rows.append(Paragraph(_band_markup(f), s["small"]))
    if f.note:
        rows.append(para(f.note, "note"))
    rows += [_beside_line(b) for b in shown]
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
    first_beside = len(rows) - len(shown)
    if shown:  # a rule between the figure and the figures beside it, as in the html
        commands.append(("LINEABOVE", (0, first_beside), (-1, first_beside), 0.5, RULE))
        commands.append(("TOPPADDING", (0, first_beside), (-1, first_beside), 5))
    if alert:
        commands += [("BACKGROUND", (0, 0), (-1, -1), ALERT_FILL), ("BOX", (0, 0), (-1, -1), 1.5, ALERT)]
    card.setStyle(TableStyle(commands))
    return card


_GAP = 10.0  # points between two cards of a row


def _fitting(figures: list[FigureText], per_row: int, beside: int | None) -> int:
    """``per_row``, or fewer cards a row (half as many, down to one) when a value shown on a card
    would not fit it whole in 9 pt, the least its large type is set smaller to: a 25-digit amount
    (38 characters with its separators and currency) was split over two lines on a card a quarter
    of the page wide."""
    shown = [f.value for f in figures] + [b.value for f in figures for b in f.beside[:beside]]
    widest = max((text_width(word, BOLD, 9) for value in shown for word in value.split()), default=0.0)
    while per_row > 1:
        room = (FRAME_WIDTH - _GAP * (per_row - 1)) / per_row - 16  # the card's 8 + 8 points of padding
        if widest <= room:
            break
        per_row //= 2
    return per_row


def _cards(
    figures: list[FigureText],
    per_row: int = 2,
    beside: int | None = None,
    marked: frozenset[str] = frozenset(),
) -> list[Flowable]:
    """Cards in rows; each row its own flowable, so the rows of a long section can go on new pages."""
    per_row = _fitting(figures, per_row, beside)
    gap = _GAP
    width = (FRAME_WIDTH - gap * (per_row - 1)) / per_row
    cards: list[Any] = [_card(f, width, beside, f.key in marked) for f in figures]
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


HEADLINE_FIGURES = 4  # a section of this many headline figures or more prints them four to a row


def _details(figures: list[FigureText]) -> list[Flowable]:
    """The figures shown beside each headline figure, as a table under the row of cards."""
    head = [para(h, "head") for h in ("Figure", "Value", "Rests on", "Benchmark", "Note")]
    body: list[list[Any]] = []
    groups: list[int] = []
    for f in figures:
        if not f.beside:
            continue
        groups.append(len(body) + 1)
        body.append([para(f.label, "head"), "", "", "", ""])
        for b in f.beside:
            body.append(
                [
                    para(b.label, "cell"),
                    para(b.value, "cell_num" if b.has_value else "cell"),
                    para(b.deals, "cell"),
                    Paragraph(_band_markup(b), styles()["cell"]),
                    para(b.note, "note"),
                ]
            )
    if not body:
        return []
    grid = Table([head, *body], colWidths=_details_widths(figures), repeatRows=1, hAlign="LEFT")
    commands: list[Any] = [
        ("BACKGROUND", (0, 0), (-1, 0), HEADER_FILL),
        ("LINEBELOW", (0, 0), (-1, -1), 0.5, RULE),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), 4),
        ("RIGHTPADDING", (0, 0), (-1, -1), 4),
        ("TOPPADDING", (0, 0), (-1, -1), 2.5),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2.5),
    ]
    for row in groups:  # each group's heading row spans the table, on the card colour
        commands += [("SPAN", (0, row), (-1, row)), ("BACKGROUND", (0, row), (-1, row), CARD)]
    grid.setStyle(TableStyle(commands))
    return [Spacer(1, 2), grid, Spacer(1, 6)]


def _details_widths(figures: list[FigureText]) -> list[float]:
    """The beside table's columns: a value is never split ("99,999,999,999,999." over "99 USD"),
    so the Value column is as wide as its widest number, the room taken from Figure and Note."""
    widths = [FRAME_WIDTH * w for w in (0.34, 0.14, 0.16, 0.14, 0.22)]
    s = styles()["cell_num"]
    widest = max(
        (
            text_width(word, s.fontName, s.fontSize)
            for f in figures
            for b in f.beside
            if b.has_value
            for word in b.value.split()
        ),
        default=0.0,
    )
    extra = max(widest + 10 - widths[1], 0.0)  # the cell's 4 + 4 points of padding, and rounding
    widths[1] += extra
    widths[0] -= extra * 0.34 / 0.56
    widths[4] -= extra * 0.22 / 0.56
    return widths


def figure_blocks(figures: list[FigureText], marked: frozenset[str] = frozenset()) -> list[Flowable]:
    """A section's headline figures: four or more (a dashboard's four numbers) four to a row, each
    card with its benchmarked figure only, so the four print on the first page, and the table of
    every figure beside them under the row; fewer as cards two abreast with everything beside them.
    The cards of the figures ``marked`` (a raised alert is about them) are framed in red."""
    if len(figures) >= HEADLINE_FIGURES:
        return [*_cards(figures, per_row=HEADLINE_FIGURES, beside=1, marked=marked), *_details(figures)]
    return _cards(figures, marked=marked)
