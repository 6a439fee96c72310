"""Charts: one drawing per kind, gaps for missing values, tier colours, unit axes, identical bytes."""

from __future__ import annotations

import math
import re
import warnings
from decimal import Decimal as D

import pytest
from matplotlib.colors import to_hex
from matplotlib.patches import Rectangle

from cosell.report_model import Band, Chart, Series
from cosell.reports.charts import (
    TIER_COLOURS,
    axis_formatter,
    chart_figure,
    chart_png,
    chart_svg,
    series_colour,
)
from cosell.reports.charts import _drawn as drawn

from .conftest import assert_not_blank

QUARTERS = ("2026-Q1", "2026-Q2", "2026-Q3")


def _bars(chart: Chart) -> list[Rectangle]:
    ax = chart_figure(chart, "USD").axes[0]
    return [p for p in ax.patches if isinstance(p, Rectangle) and p.get_height() != 0]


def test_grouped_bars_skip_missing_values_instead_of_drawing_zeros() -> None:
    chart = Chart(
        "c",
        "Cycle",
        "bar",
        QUARTERS,
        (Series("Partner", (D("61.5"), None, D("58"))), Series("Direct", (D("80"), D("79.5"), D("81")))),
        "days",
    )
    bars = _bars(chart)
    assert len(bars) == 5  # 6 slots, one of them None
    heights = sorted(round(b.get_height(), 2) for b in bars)
    assert heights == [58.0, 61.5, 79.5, 80.0, 81.0]
    ax = chart_figure(chart, "USD").axes[0]
    assert [t.get_text() for t in ax.texts] == ["n/a"]  # the gap is labelled, not silent
    partner = {to_hex(b.get_facecolor()) for b in bars if b.get_height() in (61.5, 58.0)}
    assert partner == {TIER_COLOURS["partner"]}


def test_stacked_bars_stack_by_tier_and_missing_values_add_nothing() -> None:
    chart = Chart(
        "p",
        "Pipeline",
        "stacked",
        QUARTERS,
        (
            Series("Sourced", (D("100"), None, D("300"))),
            Series("Influenced", (D("50"), D("60"), D("-20"))),
            Series("None", (D("10"), D("20"), D("30"))),
        ),
        "money",
    )
    bars = _bars(chart)
    assert len(bars) == 8
    tops = {}
    for bar in bars:
        x = round(bar.get_x() + bar.get_width() / 2)
        if bar.get_height() > 0:
            tops[x] = max(tops.get(x, 0.0), bar.get_y() + bar.get_height())
    assert tops == {0: 160.0, 1: 80.0, 2: 330.0}
    negative = [b for b in bars if b.get_height() < 0]
    assert len(negative) == 1 and negative[0].get_y() == 0.0  # a negative value hangs below zero
    colours = {to_hex(b.get_facecolor()) for b in bars if round(b.get_x() + b.get_width() / 2) == 0}
    assert colours == {TIER_COLOURS["sourced"], TIER_COLOURS["influenced"], TIER_COLOURS["none"]}


def test_bars_by_tier_category_take_the_tier_colour() -> None:
    chart = Chart(
        "r",
        "Revenue",
        "bar",
        ("Sourced", "Accelerated", "Influenced", "None"),
        (Series("2026-Q2", (D(1), D(2), D(3), D(4))), Series("2026-Q3", (D(2), D(3), D(4), D(5)))),
        "money",
    )
    newest = [b for b in _bars(chart) if b.get_alpha() in (None, 1.0)]
    assert [to_hex(b.get_facecolor()[:3]) for b in sorted(newest, key=Rectangle.get_x)] == [
        TIER_COLOURS[t] for t in ("sourced", "accelerated", "influenced", "none")
    ]
    assert sorted(b.get_height() for b in newest) == [2, 3, 4, 5]  # 2026-Q3, the newest, is in full colour
    # the same when the current quarter comes first
    swapped = Chart("r", "Revenue", "bar", chart.categories, chart.series[::-1], "money")
    assert sorted(b.get_height() for b in _bars(swapped) if b.get_alpha() in (None, 1.0)) == [2, 3, 4, 5]


def test_lines_break_at_missing_values_over_their_benchmark_band() -> None:
    chart = Chart(
        "t",
        "Trend",
        "line",
        QUARTERS,
        (Series("Sourced share of pipeline", (D("0.18"), None, D("0.21"))),),
        "percent",
        bands=(("Sourced share of pipeline", Band(D("0.15"), D("0.25"))),),
    )
    ax = chart_figure(chart, "USD").axes[0]
    (line,) = ax.get_lines()
    ys = list(line.get_ydata())
    assert ys[0] == pytest.approx(0.18) and math.isnan(ys[1]) and ys[2] == pytest.approx(0.21)
    assert to_hex(line.get_color()) == TIER_COLOURS["sourced"]
    low, high = ax.get_ylim()
    assert low < 0.15 and high > 0.25  # the whole band is in view
    spans = [p for p in ax.patches if p.get_label().startswith("benchmark")]
    assert [s.get_label() for s in spans] == ["benchmark 15% to 25%"]
    assert to_hex(spans[0].get_facecolor()) == TIER_COLOURS["sourced"]


def test_axes_speak_the_unit() -> None:
    assert axis_formatter("percent")(0.25, None) == "25%"
    assert axis_formatter("money")(1_500_000, None) == "1.5M"
    assert axis_formatter("money")(250_000, None) == "250k"
    assert axis_formatter("days")(40, None) == "40 d"
    assert axis_formatter("ratio")(0.125, None) == "0.12"
    chart = Chart(
        "m", "Money", "bar", QUARTERS, (Series("Sourced", (D(1), D(2), D(3))),), "money", y_label="Pipeline"
    )
    assert chart_figure(chart, "EUR").axes[0].get_ylabel() == "Pipeline (EUR)"


def test_tier_colours_are_the_same_whatever_the_position() -> None:
    assert series_colour("Sourced", 0) == series_colour("sourced revenue", 5) == TIER_COLOURS["sourced"]
    assert series_colour("Saving against direct", 0) != TIER_COLOURS["direct"]  # only the leading word counts
    assert series_colour("2026-Q3", 0) != series_colour("2026-Q2", 1)


def test_an_empty_chart_says_so() -> None:
    chart = Chart("e", "Empty", "line", QUARTERS, (Series("Sourced", (None, None, None)),), "percent")
    ax = chart_figure(chart, "USD").axes[0]
    assert "no data" in [t.get_text() for t in ax.texts]
    assert "no data" in chart_svg(chart, "USD")


def test_svg_is_inline_ready_and_identical_run_to_run() -> None:
    chart = Chart(
        "pipeline by/tier", "P", "stacked", QUARTERS, (Series("Sourced", (D(1), D(2), D(3))),), "money"
    )
    svg = chart_svg(chart, "USD")
    drawn.cache_clear()  # drawn again, not the drawing kept
    assert svg == chart_svg(chart, "USD")
    assert svg.startswith("<svg ") and svg.rstrip().endswith("</svg>")
    assert "<?xml" not in svg and "DOCTYPE" not in svg and "metadata" not in svg and "http" not in svg
    ids = re.findall(r'\sid="([^"]+)"', svg)
    assert ids and all(i.startswith("pipeline-by-tier-") for i in ids)
    refs = re.findall(r'(?:href="#|url\(#)([^")]+)', svg)
    assert refs and set(refs) <= set(ids)  # every reference still points at an element of this chart


def test_png_is_drawn_and_identical_run_to_run() -> None:
    chart = Chart("c", "C", "bar", QUARTERS, (Series("Influenced", (D(1), D(2), D(3))),), "count")
    png = chart_png(chart, "USD", dpi=60)
    drawn.cache_clear()  # drawn again, not the drawing kept
    assert png == chart_png(chart, "USD", dpi=60)
    assert png.startswith(b"\x89PNG") and b"Software" not in png
    assert_not_blank(png, "the chart")


def test_a_chart_drawn_again_is_the_drawing_kept_unless_written_otherwise() -> None:
    """A chart is drawn once per process (the last 64 are kept): the same chart again costs
    nothing; one of equal values written otherwise (1.0 and 1.00) is drawn on its own."""
    drawn.cache_clear()
    one = Chart("k", "K", "bar", QUARTERS, (Series("Sourced", (D("1.0"), D(2), D(3))),), "money")
    other = Chart("k", "K", "bar", QUARTERS, (Series("Sourced", (D("1.00"), D(2), D(3))),), "money")
    first = chart_png(one, "USD", dpi=40)
    assert chart_png(one, "USD", dpi=40) == first
    assert (drawn.cache_info().hits, drawn.cache_info().misses) == (1, 1)
    assert chart_png(other, "USD", dpi=40) == first  # drawn from the same floats: the same picture
    assert chart_png(one, "USD", dpi=41) != first
    assert chart_svg(one, "EUR") != chart_svg(one, "USD")
    assert (drawn.cache_info().hits, drawn.cache_info().misses) == (1, 5)


def test_dollar_signs_and_markup_in_names_are_plain_text() -> None:
    chart = Chart(
        "d",
        "D",
        "bar",
        ("$1 deals", "<b>x</b>"),
        (Series("A & $B$", (D(1), D(2))), Series("C", (D(1), D(2)))),
        "count",
    )
    svg = chart_svg(chart, "USD")
    assert "$1 deals" in svg and "A &amp; $B$" in svg and "&lt;b&gt;x&lt;/b&gt;" in svg


@pytest.mark.parametrize("horizontal", [False, True])
def test_a_name_with_a_tab_or_line_break_is_one_line_of_words(horizontal: bool) -> None:
    # A partner named "A\tB" drew a missing-glyph box and printed matplotlib's "Glyph 9 missing"
    # warning into the terminal of `cosell report partners --format html|pdf`.
    chart = Chart(
        "league_top",
        "L",
        "stacked",
        ("Tab\there", "Line\nbreak  and\r\nmore"),
        (Series("Sourced", (D(1), D(2))),),
        "money",
        horizontal=horizontal,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ax = chart_figure(chart, "USD").axes[0]
        chart_png(chart, "USD", dpi=40)
    ticks = ax.get_yticklabels() if horizontal else ax.get_xticklabels()
    assert [t.get_text() for t in ticks] == ["Tab here", "Line break and more"]


@pytest.mark.parametrize("name", ["北京 Partners", "Bell\u2407 Co\u241b[31m"])
def test_a_name_the_font_cannot_draw_prints_no_warning(name: str) -> None:
    """A partner named in a script the chart font lacks, or with an ESC (shown as ␛), printed
    matplotlib's "UserWarning: Glyph 9243 missing from font(s)" with cosell's source line into the
    terminal of `cosell report partners --format html|pdf`."""
    chart = Chart("league_top", "L", "stacked", (name, "B"), (Series("Sourced", (D(1), D(2))),), "money")
    drawn.cache_clear()  # drawn here, where the warning would show
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        svg = chart_svg(chart, "USD")
        chart_png(chart, "USD", dpi=40)
    assert "<svg" in svg


def test_a_cjk_name_is_drawn_not_boxed() -> None:
    # The chart font, DejaVu Sans, has no CJK glyph: 北京 and 東京 were drawn as the same two
    # boxes, so two partners' bars carried identical labels. The CJK font now draws them.
    def png(name: str) -> bytes:
        chart = Chart("league_top", "L", "stacked", (name,), (Series("Sourced", (D(1),)),), "money")
        return chart_png(chart, "USD", dpi=60)

    assert png("北京 Partners") != png("東京 Partners")
    assert png("삼성") != png("현대")
