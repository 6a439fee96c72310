"""Draw a report :class:`~cosell.report_model.Chart` with matplotlib: SVG text for html, PNG for pdf.

One drawing function per ``Chart.kind``: grouped bars, stacked bars, and lines with shaded benchmark
bands behind them. ``None`` in a series is a gap (no bar, a break in the line), never a zero. Money
axes are in the report's currency, percent axes in %, and every tier has the same colour in every
chart (sourced blue, accelerated green, influenced orange, none grey; direct dark grey).

Output is deterministic: the Agg backend, a fixed ``svg.hashsalt``, no creation date or software
version in the files, so the same chart gives the same bytes. The chart's title is not drawn in the
picture: html and pdf print it as text above it (searchable, and the same font as the page).
Text from data in a chart (a partner's name as a category or a series) is shown, never obeyed
(:func:`cosell.shown.visible`), as everywhere people read it.

Example::

    svg = chart_svg(chart, "USD")     # "<svg ...>...</svg>", ready to inline in html
    png = chart_png(chart, "USD")     # PNG bytes at 200 dpi for the pdf
"""

from __future__ import annotations

import functools
import io
import math
import re
import warnings
from collections.abc import Callable, Sequence
from dataclasses import replace
from decimal import Decimal
from typing import Any

import matplotlib

matplotlib.use("Agg")  # never a window or a GUI toolkit, whatever the environment says

from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter, MaxNLocator

from cosell.report_model import Chart, Unit
from cosell.reports.typefaces import CHART_FONTS, register_chart_fonts
from cosell.shown import visible

# Okabe-Ito colours (readable by colour-blind readers and in grey print), one per tier, everywhere.
TIER_COLOURS: dict[str, str] = {
    "sourced": "#0072b2",
    "accelerated": "#009e73",
    "influenced": "#e69f00",
    "none": "#999999",
    "direct": "#4d4d4d",
    "partner": "#cc79a7",
}
# For series that name no tier (a total, a prior period ...), in order of appearance.
OTHER_COLOURS = ("#56b4e9", "#d55e00", "#cc79a7", "#f0e442", "#000000", "#8c564b")
_TIER_WORDS = re.compile(r"\b(sourced|accelerated|influenced|none|direct|partner)\b", re.IGNORECASE)

# Every chart is drawn with these settings only (a context, so the caller's matplotlib is untouched).
_RC: dict[Any, Any] = {
    "svg.hashsalt": "cosell-report",  # clip-path ids from a fixed salt, not a random one
    "svg.fonttype": "none",  # text stays text in the SVG: searchable, crisp, small
    "svg.id": None,
    "text.parse_math": False,  # a "$" in a partner's name is a dollar sign, not TeX
    "font.family": CHART_FONTS,  # DejaVu, and the CJK font for the glyphs it lacks (a partner's name)
    "font.size": 10,
    "axes.titlesize": 10,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "axes.grid.axis": "y",
    "grid.color": "#DDDDDD",
    "grid.linewidth": 0.6,
    "legend.frameon": False,
    "legend.fontsize": 9,
    "path.simplify": False,
}
FIGURE_SIZE = (6.0, 3.0)  # inches; html scales it to its column
PDF_FIGURE_SIZE = (5.25, 2.9)  # inches: the pdf prints two abreast at this size, so chart text is 10 pt
PNG_DPI = 200


def series_colour(name: str, index: int) -> str:
    """The colour of a series: its tier's when its name starts with one, else the index-th other colour.

    >>> series_colour("Sourced", 0), series_colour("Influenced share of closed-won", 3)
    ('#0072b2', '#e69f00')
    """
    match = _TIER_WORDS.match(name.strip())  # the leading word: "Saving against direct" is no tier
    if match:
        return TIER_COLOURS[match.group(1).lower()]
    return OTHER_COLOURS[index % len(OTHER_COLOURS)]


def _floats(values: Sequence[Decimal | None]) -> list[float]:
    # Display only: floats are fine for drawing; None stays a gap (NaN), never 0.
    return [math.nan if v is None else float(v) for v in values]


def _compact(amount: float) -> str:
    size = abs(amount)
    for limit, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "k")):
        if size >= limit:
            text = f"{amount / limit:.1f}".removesuffix(".0")
            return text + suffix
    return f"{amount:.0f}" if size >= 10 or amount == 0 else f"{amount:.2f}".rstrip("0").rstrip(".")


def axis_formatter(unit: Unit) -> Callable[[float, object], str]:
    """Tick labels for a value axis: money compact (1.5M; the axis label names the currency), percents
    as %, days, ratios."""

    def money(x: float, _pos: object) -> str:
        return _compact(x)

    def percent(x: float, _pos: object) -> str:
        return f"{x * 100:.0f}%" if abs(x) >= 0.1 or x == 0 else f"{x * 100:.1f}%"

    def days(x: float, _pos: object) -> str:
        return f"{x:g} d"

    def ratio(x: float, _pos: object) -> str:
        return f"{x:.2f}"

    def count(x: float, _pos: object) -> str:
        return _compact(x)

    return {"money": money, "percent": percent, "days": days, "ratio": ratio}.get(unit, count)


HORIZONTAL_INCHES_PER_CATEGORY = 0.32  # a bar and its gap, with a 10 pt label beside it
HORIZONTAL_LABEL_CHARACTERS = 30  # longer category names are cut with "…" (the table has them whole)


def chart_size(chart: Chart, size: tuple[float, float]) -> tuple[float, float]:
    """The size (inches) a chart is drawn at: ``size``, or for a horizontal chart that width and a
    height that gives every category a readable bar (about a third of an inch each, plus the
    value axis and the legend).

    >>> from cosell.report_model import Chart
    >>> chart_size(Chart("k", "t", "stacked", tuple("abcdefghij"), (), "money", horizontal=True), (6.0, 3.0))
    (6.0, 4.4)
    """
    if not chart.horizontal:
        return size
    return size[0], max(size[1], round(1.2 + HORIZONTAL_INCHES_PER_CATEGORY * len(chart.categories), 2))


def _new_figure(chart: Chart, currency: str, size: tuple[float, float]) -> tuple[Figure, Axes]:
    fig = Figure(figsize=size, layout="constrained")
    ax = fig.add_subplot()
    values = ax.xaxis if chart.horizontal else ax.yaxis
    values.set_major_formatter(FuncFormatter(axis_formatter(chart.unit)))
    if chart.unit == "count":
        values.set_major_locator(MaxNLocator(integer=True))
    label = chart.y_label or ""
    if chart.unit == "money":  # the ticks are compact (1.5M); the axis names the currency
        label = f"{label} ({currency})" if label else currency
    if label:
        (ax.set_xlabel if chart.horizontal else ax.set_ylabel)(label)
    if chart.horizontal:
        ax.grid(False)
        ax.grid(True, axis="x")
    ax.set_axisbelow(True)
    return fig, ax


def _one_line(text: str) -> str:
    """A category name from the data (a partner's) as one line of words: a tab, a line break or
    a run of spaces is one space (the font has no glyph for a tab: a box and a warning)."""
    return " ".join(text.split())


def _side_labels(ax: Axes, categories: Sequence[str]) -> None:
    """Categories down the side of a horizontal chart, the first at the top."""
    limit = HORIZONTAL_LABEL_CHARACTERS
    labels = [c if len(c) <= limit else c[: limit - 1].rstrip() + "…" for c in categories]
    ax.set_yticks(list(range(len(categories))), labels)
    ax.set_ylim(len(categories) - 0.4, -0.6)  # inverted: the first category (the largest) on top


def _category_axis(ax: Axes, categories: Sequence[str], width_inches: float) -> None:
    positions = list(range(len(categories)))
    ax.set_xticks(positions, categories)
    # Slant the labels when they would touch: about 0.62 em a character, 10 pt text, and the
    # plot area is the figure less about 0.9 inch of y axis.
    needed = len(categories) * (max(map(len, categories), default=0) * 6.2 + 8)
    if needed > (width_inches - 0.9) * 72:
        ax.tick_params(axis="x", labelrotation=45)
        for label in ax.get_xticklabels():
            label.set_horizontalalignment("right")
    ax.set_xlim(-0.6, len(categories) - 0.4)


def _legend(fig: Figure, handles: list[Any]) -> None:
    # Below the plot, so the plot keeps the full width (constrained layout makes room for it).
    if len(handles) > 1:
        ncol = len(handles) if len(handles) <= 4 and sum(len(h.get_label()) for h in handles) < 70 else 2
        fig.legend(handles=handles, loc="outside lower center", ncol=ncol, handlelength=1.2)


def _no_data(ax: Axes) -> None:
    ax.text(0.5, 0.5, "no data", transform=ax.transAxes, ha="center", va="center", color="#777777")


def _tier_categories(chart: Chart) -> bool:
    # Categories that are tiers (and series that are not): colour by category, shade by series.
    return (
        bool(chart.categories)
        and all(_TIER_WORDS.fullmatch(c.strip()) for c in chart.categories)
        and not any(_TIER_WORDS.search(s.name) for s in chart.series)
    )


_PERIOD = re.compile(r"^\d{4}-(Q[1-4]|\d{2})$")  # a fiscal quarter or a month label


def _recency(chart: Chart) -> list[int]:
    """Each series' rank, the newest highest: by period label when every series is named by one
    (they sort in time), else the first series is taken as the current one."""
    names = [s.name for s in chart.series]
    if names and all(_PERIOD.match(n) for n in names):
        order = sorted(range(len(names)), key=lambda i: names[i])
        return [order.index(i) for i in range(len(names))]
    return [len(names) - 1 - i for i in range(len(names))]


def _draw_bar(ax: Axes, chart: Chart) -> list[Any]:
    """Grouped bars: one bar per series in each category; a None value draws no bar.

    When the categories are tiers (revenue by tier, this quarter against the prior one) each bar has
    its tier's colour and the series differ in shade, the newest period full, older ones lighter.
    """
    n = max(len(chart.series), 1)
    width = 0.8 / n
    by_category = _tier_categories(chart)
    recency = _recency(chart)
    handles: list[Any] = []
    for i, series in enumerate(chart.series):
        offset = (i - (n - 1) / 2) * width
        points = [
            (c, float(v)) for c, v in enumerate(series.values[: len(chart.categories)]) if v is not None
        ]
        xs = [c + offset for c, _ in points]
        ys = [y for _, y in points]
        for c, v in enumerate(series.values[: len(chart.categories)]):
            if v is None:  # say so: an empty slot must not read as a zero
                ax.text(c + offset, 0, "n/a", ha="center", va="bottom", fontsize=8, color="#777777")
        if by_category:
            alpha = 1.0 if n == 1 else 0.4 + 0.6 * recency[i] / (n - 1)
            colours = [series_colour(chart.categories[c], 0) for c, _ in points]
            ax.bar(xs, ys, width * 0.92, color=colours, alpha=alpha)
            handles.append(Patch(facecolor="#555555", alpha=alpha, label=series.name))
        else:
            colour = series_colour(series.name, i)
            ax.bar(xs, ys, width * 0.92, color=colour)
            handles.append(Patch(facecolor=colour, label=series.name))
    return handles


def _draw_stacked(ax: Axes, chart: Chart) -> list[Any]:
    """Stacked bars: positive values stack up from 0, negative ones down; None adds nothing.
    A horizontal chart stacks to the right (negative values to the left)."""
    count = len(chart.categories)
    up = [0.0] * count
    down = [0.0] * count
    handles: list[Any] = []
    for i, series in enumerate(chart.series):
        xs: list[int] = []
        heights: list[float] = []
        bottoms: list[float] = []
        for c, v in enumerate(series.values[:count]):
            if v is None:
                continue
            value = float(v)
            base = up if value >= 0 else down
            xs.append(c)
            heights.append(value)
            bottoms.append(base[c])
            base[c] += value
        colour = series_colour(series.name, i)
        if chart.horizontal:
            ax.barh(xs, heights, 0.62, left=bottoms, color=colour)
        else:
            ax.bar(xs, heights, 0.62, bottom=bottoms, color=colour)
        handles.append(Patch(facecolor=colour, label=series.name))
    if any(d < 0 for d in down):
        (ax.axvline if chart.horizontal else ax.axhline)(0, color="#888888", linewidth=0.6)
    return handles


def _draw_line(ax: Axes, chart: Chart) -> list[Any]:
    """Lines with markers (a None breaks the line) over their series' shaded benchmark bands."""
    colours = {s.name: series_colour(s.name, i) for i, s in enumerate(chart.series)}
    formatter = axis_formatter(chart.unit)
    handles: list[Any] = []
    limits: list[float] = []
    xs = list(range(len(chart.categories)))
    for series in chart.series:
        ys = _floats(series.values[: len(xs)])
        limits.extend(y for y in ys if not math.isnan(y))
        (line,) = ax.plot(
            xs[: len(ys)],
            ys,
            marker="o",
            markersize=4.5,
            linewidth=2,
            label=series.name,
            color=colours[series.name],
        )
        handles.append(line)
    for i, (name, band) in enumerate(chart.bands):
        colour = colours.get(name, OTHER_COLOURS[i % len(OTHER_COLOURS)])
        low, high = float(band.low), float(band.high)
        limits.extend((low, high))
        span = ax.axhspan(low, high, color=colour, alpha=0.15, linewidth=0, zorder=0)
        span.set_label(f"benchmark {formatter(low, None)} to {formatter(high, None)}")
        handles.append(span)
    if limits:  # every band in full view, with a little air
        bottom, top = min(limits), max(limits)
        pad = (top - bottom) * 0.08 or abs(top) * 0.1 or 1.0
        ax.set_ylim(bottom - pad, top + pad)
    return handles


_DRAW: dict[str, Callable[[Axes, Chart], list[Any]]] = {
    "bar": _draw_bar,
    "stacked": _draw_stacked,
    "line": _draw_line,
}


def _shown(chart: Chart) -> Chart:
    r"""The chart with its text shown, never obeyed: in the SVG a bidi override in a category would
    reorder the labels after it, in the PNG a zero-width space draws nothing ("Ac\u200bme" as "Acme").
    Series and bands are matched by name, so both are mapped alike. A category is made one line
    first: a tab or a line break in a name is a space, not the picture of a control."""
    return replace(
        chart,
        title=visible(chart.title),
        categories=tuple(visible(_one_line(c)) for c in chart.categories),
        series=tuple(replace(s, name=visible(s.name)) for s in chart.series),
        bands=tuple((visible(name), band) for name, band in chart.bands),
        y_label=visible(chart.y_label),
    )


def chart_figure(chart: Chart, currency: str, size: tuple[float, float] = FIGURE_SIZE) -> Figure:
    """The matplotlib figure of a chart (not yet saved); tests look at its artists."""
    chart = _shown(chart)
    size = chart_size(chart, size)
    fig, ax = _new_figure(chart, currency, size)
    has_value = any(v is not None for s in chart.series for v in s.values)
    if not chart.categories or not has_value:
        _no_data(ax)
    handles = _DRAW[chart.kind](ax, chart)
    if chart.categories and chart.horizontal:
        _side_labels(ax, chart.categories)
    elif chart.categories:
        _category_axis(ax, chart.categories, size[0])
    _legend(fig, handles)
    return fig


def _save(chart: Chart, currency: str, fmt: str, size: tuple[float, float], **options: Any) -> bytes:
    # The key is the chart's text (repr), not its value: 1.0 and 1.00 are equal Decimals.
    metadata = tuple(sorted(options.pop("metadata", {}).items()))
    return _drawn(repr(chart), chart, currency, fmt, size, metadata, tuple(sorted(options.items())))


@functools.lru_cache(maxsize=64)
def _drawn(
    shown: str,
    chart: Chart,
    currency: str,
    fmt: str,
    size: tuple[float, float],
    metadata: tuple[tuple[str, Any], ...],
    options: tuple[tuple[str, Any], ...],
) -> bytes:
    """The chart drawn and saved (``shown``: its repr, which makes charts of equal values written
    differently two keys). The same chart gives the same bytes (the module's docstring), and a
    chart costs a tenth of a second to draw, so the charts drawn last are kept: a report drawn
    again in the same format by the same process (a page served again) draws none of them anew."""
    buffer = io.BytesIO()
    register_chart_fonts()
    with matplotlib.rc_context(_RC):
        fig = chart_figure(chart, currency, size)
        with warnings.catch_warnings():
            # A name in a script neither font has (an emoji, a control picture ␛ shown for an ESC) is drawn
            # as boxes; matplotlib's "Glyph ... missing from font" warning, printed with its source
            # line into the terminal of `cosell report ... --format html|pdf`, is no message for a user.
            warnings.filterwarnings("ignore", r"Glyph \d+ .*missing from font", UserWarning)
            fig.savefig(buffer, format=fmt, metadata=dict(metadata), **dict(options))
    return buffer.getvalue()


def chart_svg(chart: Chart, currency: str) -> str:
    """The chart as an ``<svg>`` element to inline in html: no XML prolog, no metadata, ids prefixed.

    Element ids are prefixed with the chart key, so several charts in one page never share an id.
    The width and height attributes are dropped: the page's CSS sizes it, the viewBox keeps its shape;
    so are the namespace declarations, which html does not need (the page then names no address).
    """
    text = _save(
        chart,
        currency,
        "svg",
        FIGURE_SIZE,
        metadata={"Date": None, "Creator": None, "Format": None, "Type": None},
    ).decode()
    text = text[text.index("<svg") :]
    text = re.sub(r"<metadata>.*?</metadata>\s*", "", text, flags=re.DOTALL)
    prefix = re.sub(r"[^A-Za-z0-9_-]", "-", chart.key) + "-"

    def prefixed(tag: re.Match[str]) -> str:  # inside tags only: chart text is left as written
        t = re.sub(r'(\s)id="', rf'\1id="{prefix}', tag.group(0))
        return t.replace('href="#', f'href="#{prefix}').replace("url(#", f"url(#{prefix}")

    text = re.sub(r"<[^<>]+>", prefixed, text)
    text = re.sub(r'<svg([^>]*?) width="[^"]*" height="[^"]*"', r"<svg\1", text, count=1)
    # Inline in html the parser knows the SVG and xlink namespaces: the page then names no address.
    text = re.sub(r'\s+xmlns(:xlink)?="[^"]*"', "", text, count=2)
    text = text.replace(
        "<svg ", f'<svg class="chart" role="img" aria-label="{_attr(visible(chart.title))}" ', 1
    )
    return text.strip() + "\n"


def _attr(text: str) -> str:
    return text.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;").replace(">", "&gt;")


def chart_png(
    chart: Chart, currency: str, size: tuple[float, float] = PDF_FIGURE_SIZE, dpi: int = PNG_DPI
) -> bytes:
    """The chart as PNG bytes (for the pdf; ``size`` in inches), with no software or date text chunks."""
    return _save(chart, currency, "png", size, dpi=dpi, metadata={"Software": None})
