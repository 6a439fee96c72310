"""The html report as a person sees it: opened in headless Chromium, screenshot and all."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import pytest

from cosell.reports.html import render_html
from cosell.reports.samples import CHART_TITLES, HEADLINE_TEXTS, HOSTILE_TEXT, sample_report

from .conftest import OpenedPage, assert_not_blank, png_pixels


@pytest.fixture(scope="module")
def sample_html() -> str:
    return render_html(sample_report())


def test_the_sample_report_renders_with_charts_and_the_four_numbers(
    open_html: Callable[[str], OpenedPage], sample_html: str
) -> None:
    opened = open_html(sample_html)
    page = opened.page

    # Only the file itself was asked for: no CDN, no font, no image from anywhere.
    assert len(opened.requests) == 1 and opened.requests[0].startswith("file://"), opened.requests

    charts = page.locator("svg.chart")
    assert charts.count() == len(CHART_TITLES)
    for i in range(charts.count()):
        box = charts.nth(i).bounding_box()
        assert box is not None and box["width"] > 300 and box["height"] > 120, box
        # real drawing inside: bars or lines, not an empty frame
        assert charts.nth(i).locator("path").count() > 10
    for title in CHART_TITLES:
        caption = page.locator("figure.chart figcaption", has_text=title)
        assert caption.count() == 1 and caption.is_visible(), title

    for number in HEADLINE_TEXTS:
        value = page.locator(".card .value", has_text=number)
        assert value.count() == 1 and value.is_visible(), number
    # the benchmark and its verdict beside the sourced share, the verdict in colour
    sourced = page.locator("#figure-headline-partner_sourced_pipeline")
    assert "benchmark 15-25%" in sourced.inner_text()
    within = sourced.locator(".verdict-within")
    assert within.inner_text() == "within"
    assert within.evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(27, 127, 59)"

    assert_not_blank(opened.screenshot, "the screenshot")
    height, width = png_pixels(opened.screenshot).shape[:2]
    assert width == 1280 and height > 2000  # the full page, every section


def test_legend_texts_are_real_text_in_the_charts(
    open_html: Callable[[str], OpenedPage], sample_html: str
) -> None:
    page = open_html(sample_html).page
    legend = page.locator("#chart-pipeline_by_tier svg text").all_text_contents()
    joined = " ".join(legend)
    for tier in ("Sourced", "Accelerated", "Influenced", "None"):
        assert tier in joined


def test_hostile_text_is_shown_not_run(open_html: Callable[[str], OpenedPage], sample_html: str) -> None:
    opened = open_html(sample_html)
    assert opened.dialogs == []
    assert opened.page.locator("script").count() == 0
    assert opened.page.get_by_text(HOSTILE_TEXT, exact=True).count() == 1  # the table cell, verbatim


# Each character of an element's text with where it is drawn, in the order of the DOM.
_DRAWN_AT = """(el) => {
  const drawn = [];
  const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    for (let i = 0; i < node.data.length; i++) {
      const range = document.createRange();
      range.setStart(node, i);
      range.setEnd(node, i + 1);
      drawn.push([node.data[i], range.getBoundingClientRect().x]);
    }
  }
  return drawn;
}"""


def test_a_bidi_override_in_a_name_does_not_reorder_the_rest_of_the_line(
    open_html: Callable[[str], OpenedPage],
) -> None:
    """A partner statement's title holds the partner's name; U+202E (right-to-left override) in it
    must not make the footer's currency and signature read backwards: it is shown as U+FFFD (and
    the title is isolated besides)."""
    title = "Partner statement: Evil\u202e Partner"
    page = open_html(render_html(replace(sample_report(), title=title))).page
    footer = page.locator("footer")
    assert footer.locator("bdi").inner_text() == "Partner statement: Evil\ufffd Partner"
    drawn = footer.evaluate(_DRAWN_AT)
    after = [x for _, x in drawn[len(title) :]]
    assert "".join(c for c, _ in drawn[len(title) :]) == " · USD · made by cosell"
    assert after == sorted(after), drawn  # drawn left to right, as written
