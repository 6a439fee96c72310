"""The html report without a browser: value formatting, escaping, self-containment, identical bytes."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import Decimal as D

import pytest

from cosell.report_model import Band, Figure, Report, Section, display
from cosell.reports.charts import _drawn
from cosell.reports.html import (
    column_header,
    format_band,
    format_figure,
    format_value,
    render_html,
)
from cosell.reports.samples import CHART_TITLES, HEADLINE_TEXTS, HOSTILE_TEXT, sample_report


@pytest.mark.parametrize(
    ("value", "unit", "currency", "expected"),
    [
        (D("4812330.5"), "money", "USD", "4,812,330.50 USD"),
        (D("0.005"), "money", "USD", "0.01 USD"),  # half away from zero, not half-even (0.00)
        (D("-0.005"), "money", "USD", "-0.01 USD"),
        (D("-1250.5"), "money", "EUR", "-1,250.50 EUR"),
        (D("1234.5"), "money", "JPY", "1,235 JPY"),  # no minor unit
        (D("1.2345"), "money", "KWD", "1.235 KWD"),  # three decimals
        (D("0.41666"), "percent", "USD", "41.7%"),
        (D("0.0005"), "percent", "USD", "0.1%"),  # 0.05% rounds up to 0.1%
        (D("-0.2290"), "percent", "USD", "-22.9%"),
        (D("0.12345"), "ratio", "USD", "0.1235"),
        (D("2"), "ratio", "USD", "2.0000"),
        (D("18.25"), "days", "USD", "18.3 days"),  # half-even would print 18.2
        (D("-3.04"), "days", "USD", "-3.0 days"),
        (1234567, "count", "USD", "1,234,567"),
        (None, "money", "USD", "n/a"),
        (date(2026, 7, 1), "text", "USD", "2026-07-01"),
        (datetime(2026, 11, 1, tzinfo=UTC), "text", "USD", "2026-11-01 00:00:00 UTC"),
        ("Northwind", "text", "USD", "Northwind"),
        ("n/a", "money", "USD", "n/a"),  # a text cell in a money column is printed as given
    ],
)
def test_values_print_as_in_every_other_format(
    value: object, unit: str, currency: str, expected: str
) -> None:
    assert format_value(value, unit, currency) == expected  # type: ignore[arg-type]
    assert format_value(value, unit, currency) == display(value, unit, currency)  # type: ignore[arg-type]


def test_table_cells_leave_the_unit_to_the_header() -> None:
    assert format_value(D("1250"), "money", "USD", in_table=True) == "1,250.00"
    assert format_value(D("54.25"), "days", "USD", in_table=True) == "54.3"
    assert format_value(D("0.5"), "percent", "USD", in_table=True) == "50.0%"
    assert column_header("Sourced revenue", "money", "EUR") == "Sourced revenue (EUR)"
    assert column_header("Median cycle", "days", "EUR") == "Median cycle (days)"


def test_bands_and_deal_counts_in_plain_words() -> None:
    band = Band(D("0.15"), D("0.25"))
    assert format_band(Figure("k", "l", D("0.2"), "percent", band=band)) == "benchmark 15-25%"
    assert format_band(Figure("k", "l", D("0.2"), "percent", band=Band(D("0.225"), D("0.4")))) == (
        "benchmark 22.5-40%"
    )
    assert format_band(Figure("k", "l", D("0.2"), "percent")) == ""
    assert Figure("k", "l", D(1), "count", deals=1).deals_text() == "1 deal"
    assert Figure("k", "l", D(1), "count", deals=1931, deals_label="deals created").deals_text() == (
        "1,931 deals created"
    )
    # One of them: the label's "deals" is singular ("1 deals" in a statement, before), and only that word.
    assert Figure("k", "l", D(1), "count", deals=1, deals_label="sourced won deals").deals_text() == (
        "1 sourced won deal"
    )
    assert Figure("k", "l", D(1), "count", deals=1, deals_label="won + lost").deals_text() == "1 won + lost"
    assert (
        Figure("k", "l", D(1), "count", deals=0, deals_label="deals created").deals_text()
        == "0 deals created"
    )
    assert Figure("k", "l", D(1), "count").deals_text() == ""


def test_a_figure_with_no_value_shows_its_note_never_a_zero() -> None:
    figure = Figure("cycle", "Cycle reduction", None, "days", deals=0, note="no partner deals won")
    text = format_figure(figure, "USD")
    assert (text.value, text.has_value, text.note, text.deals) == (
        "no partner deals won",
        False,
        "",
        "0 deals",
    )
    assert format_figure(Figure("x", "X", None, "money"), "USD").value == "no value"


def test_the_sample_page_has_every_number_chart_and_verdict() -> None:
    html = render_html(sample_report())
    for text in (*HEADLINE_TEXTS, *CHART_TITLES, "benchmark 15-25%", "no partner deals won in 2026-Q1"):
        assert text in html
    assert html.count("<svg") == len(CHART_TITLES)
    for verdict in ("below", "within", "above"):
        assert f'<span class="verdict verdict-{verdict}">{verdict}</span>' in html


def test_the_page_is_self_contained() -> None:
    html = render_html(sample_report())
    assert "http:" not in html and "https:" not in html and "//" not in html.replace("<!--", "")
    assert not re.search(r"<(link|script|img|iframe|object)\b", html)
    assert "url(" not in html.replace("url(#", "")  # CSS and SVG refer only to ids inside the page


def test_chart_ids_are_unique_in_the_page() -> None:
    ids = re.findall(r'\sid="([^"]+)"', render_html(sample_report()))
    assert len(ids) == len(set(ids))


def test_every_text_is_escaped() -> None:
    report = Report(
        key="x",
        title='<b>Q3</b> & "co"',
        subtitle="<i>sub</i>",
        currency="USD",
        facts=(("<th>", "<td>"),),
        sections=(Section(key="s", title="<h1>", notes=(HOSTILE_TEXT,)),),
    )
    html = render_html(report)
    assert "<script>" not in html and "<b>Q3" not in html and "<i>sub" not in html and "<th>" not in html
    assert "&lt;b&gt;Q3&lt;/b&gt; &amp; &#34;co&#34;" in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; Söhne" in html
    assert "<script" not in render_html(sample_report())


def test_the_same_report_gives_the_same_bytes() -> None:
    first = render_html(sample_report())
    _drawn.cache_clear()  # its charts drawn again, not the drawings kept
    assert render_html(sample_report()) == first


def test_the_docstring_examples_hold() -> None:
    import doctest

    from cosell.reports import charts, html

    for module in (html, charts):
        result = doctest.testmod(module)
        assert result.attempted > 0 and result.failed == 0, module.__name__


def test_the_template_ships_inside_the_package() -> None:
    from importlib.resources import files

    assert files("cosell.reports").joinpath("templates/report.html.j2").is_file()
