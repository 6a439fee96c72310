"""The fonts of the pdf reports and the charts, and how a name in a script DejaVu lacks is set.

The main font is DejaVu Sans, from matplotlib's own files (so it is there wherever cosell is
installed): Latin, Greek, Cyrillic, Hebrew, Arabic. It has no Chinese, Japanese or Korean glyphs, so a
partner named 株式会社ソニー printed as nothing in a pdf and as boxes in a chart. Every character
DejaVu lacks and WenQuanYi Micro Hei has (``fonts/``, shipped with cosell: Han, kana, Hangul, CJK
punctuation and full-width forms) is set in that font instead, run by run, and embedded as a subset
like DejaVu: the pdf prints, searches and copies the name as written on any viewer, with no font of
the reader's. reportlab's built-in CID fonts (HeiseiKakuGo-W5 ...) are not embedded: a viewer
without the matching language pack (poppler without poppler-data, a bare Acrobat) prints nothing.
The fallback font is read only when a text needs it, so a report without such a name is unchanged.
"""

from __future__ import annotations

import functools
from pathlib import Path
from xml.sax.saxutils import escape

import matplotlib
from matplotlib import font_manager
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

from cosell.shown import visible

FONT, BOLD = "CosellSans", "CosellSans-Bold"
CJK_FONT = "CosellCJK"  # WenQuanYi Micro Hei: one weight, so a CJK name in a bold header is regular
CJK_FONT_FILE = Path(__file__).parent / "fonts" / "wqy-microhei.ttc"
CHART_FONTS = ["DejaVu Sans", "WenQuanYi Micro Hei"]  # matplotlib's family list: the first that has a glyph


@functools.cache
def register_fonts() -> None:
    """Register DejaVu Sans and its bold with reportlab (once)."""
    # DejaVu ships with matplotlib (a dependency already): no system font needed, any machine.
    fonts = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
    pdfmetrics.registerFont(TTFont(FONT, str(fonts / "DejaVuSans.ttf")))
    pdfmetrics.registerFont(TTFont(BOLD, str(fonts / "DejaVuSans-Bold.ttf")))
    pdfmetrics.registerFontFamily(FONT, normal=FONT, bold=BOLD, italic=FONT, boldItalic=BOLD)


@functools.cache
def _main_glyphs() -> frozenset[int]:
    register_fonts()
    return frozenset(pdfmetrics.getFont(FONT).face.charToGlyph)


@functools.cache
def _fallback_glyphs() -> frozenset[int]:
    # Read on first need (a quarter of a second): most reports never load it.
    font = TTFont(CJK_FONT, str(CJK_FONT_FILE), subfontIndex=0)
    pdfmetrics.registerFont(font)
    return frozenset(font.face.charToGlyph)


def font_runs(text: str) -> list[tuple[str, bool]]:
    """``text`` (as shown) cut into runs, each with whether it is set in the CJK font: a character
    DejaVu lacks and the CJK font has; anything neither has stays in DejaVu (a box, as before).

    >>> font_runs("Acme 東京 KK")
    [('Acme ', False), ('東京', True), (' KK', False)]
    >>> font_runs("Zoë")
    [('Zoë', False)]
    """
    main = _main_glyphs()
    if all(ord(c) in main for c in text):
        return [(text, False)] if text else []
    other = _fallback_glyphs()
    runs: list[tuple[str, bool]] = []
    for char in text:
        cjk = ord(char) not in main and ord(char) in other
        if runs and runs[-1][1] == cjk:
            runs[-1] = (runs[-1][0] + char, cjk)
        else:
            runs.append((char, cjk))
    return runs


def markup(text: str) -> str:
    r"""Report text as a reportlab Paragraph reads it: shown (:func:`cosell.shown.visible`), escaped,
    and each CJK run in the CJK font.

    >>> markup("R&D 東京")
    'R&amp;D <font name="CosellCJK">東京</font>'
    """
    return "".join(
        f'<font name="{CJK_FONT}">{escape(run)}</font>' if cjk else escape(run)
        for run, cjk in font_runs(visible(text))
    )


def text_width(text: str, font: str, size: float) -> float:
    """The printed width of ``text`` in points, each run measured in the font it is set in.

    >>> text_width("東京", FONT, 10) > 2 * text_width("x", FONT, 10)
    True
    """
    return float(
        sum(
            pdfmetrics.stringWidth(run, CJK_FONT if cjk else font, size)
            for run, cjk in font_runs(visible(text))
        )
    )


def draw_text(
    canvas: Canvas, x: float, y: float, text: str, font: str, size: float, right: bool = False
) -> None:
    """Draw ``text`` on a canvas from ``x`` (to ``x`` when ``right``), each run in its font."""
    if right:
        x -= text_width(text, font, size)
    for run, cjk in font_runs(visible(text)):
        face = CJK_FONT if cjk else font
        canvas.setFont(face, size)
        canvas.drawString(x, y, run)
        x += pdfmetrics.stringWidth(run, face, size)


@functools.cache
def register_chart_fonts() -> None:
    """Make the CJK font known to matplotlib (once), for :data:`CHART_FONTS`."""
    font_manager.fontManager.addfont(str(CJK_FONT_FILE))
