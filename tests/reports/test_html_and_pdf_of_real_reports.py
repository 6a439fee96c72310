"""The CFO dashboard and the QBR of a small demo company, rendered for real in html and pdf.

The issue's "done when": a headless Chromium screenshot of the html and pdftoppm of the pdf, with
the charts and the four numbers present. The expected texts come from the report itself (the metrics
have their own hand-computed tests); what is checked here is that the formats show them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from cosell.attribution.engine import attribute
from cosell.data.demo import generate_dataset
from cosell.data.load import import_canonical
from cosell.policy import Policy
from cosell.report_model import Report, display
from cosell.reports.cfo import build_cfo
from cosell.reports.partners import build_partners
from cosell.reports.qbr import build_qbr
from cosell.reports.render import render
from cosell.store.attribution_store import save_run
from cosell.store.workspace import open_workspace

from .conftest import OpenedPage, RenderedPdf, assert_not_blank, rasterizer, require_tool

FOUR = ("sourced_pipeline", "influenced_win_rate", "cycle_reduction_days", "cost_per_partner_sourced_dollar")


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Report]]:
    """A demo company of 800 deals, imported and attributed as of its as-of; its cfo and qbr."""
    base = tmp_path_factory.mktemp("demo")
    manifest = generate_dataset(base / "data", size=800, seed=7)
    policy = Policy()
    ws = open_workspace(base / "cosell.duckdb")
    try:
        import_canonical(ws, manifest.out_dir, policy=policy, now=manifest.as_of, by_user="test")
        run = attribute(ws.con, policy, manifest.as_of, policy.credit_model)
        save_run(ws.con, run, "test", "report rendering test", run_at=manifest.as_of)
        yield {
            "cfo": build_cfo(ws.con, policy, None, manifest.as_of),
            "qbr": build_qbr(ws.con, policy, None, manifest.as_of),
            "partners": build_partners(ws.con, policy, None, manifest.as_of),
        }
    finally:
        ws.close()


@pytest.fixture(scope="module")
def pdfs(
    reports: dict[str, Report], tmp_path_factory: pytest.TempPathFactory
) -> Callable[[str], tuple[bytes, RenderedPdf]]:
    """A report's pdf and its pages (pdftoppm, pdftotext), made once for the module: the pdf tests
    read the same pages (rendering and rasterizing a report costs about a second)."""
    rasterize = rasterizer(tmp_path_factory.mktemp("pdfs"))
    made: dict[str, tuple[bytes, RenderedPdf]] = {}

    def pdf_of(key: str) -> tuple[bytes, RenderedPdf]:
        if key not in made:
            pdf = render(reports[key], "pdf")
            made[key] = (pdf, rasterize(pdf))
        return made[key]

    return pdf_of


def four_numbers(report: Report) -> list[str]:
    """The four headline numbers as every format prints them (a number, or the note saying why not)."""
    headline = next(s for s in report.sections if s.key == "headline")
    by_key = {f.key: f for f in headline.figures}
    assert set(FOUR) <= set(by_key), sorted(by_key)
    out = []
    for key in FOUR:
        f = by_key[key]
        out.append(display(f.value, f.unit, report.currency) if f.value is not None else f.note)
    return out


def charts_of(report: Report) -> list[str]:
    return [c.title for s in report.sections for c in s.charts]


@pytest.mark.parametrize("key", ["cfo", "qbr"])
def test_the_html_shows_the_charts_and_the_four_numbers(
    key: str, reports: dict[str, Report], open_html: Callable[[str], OpenedPage]
) -> None:
    report = reports[key]
    titles = charts_of(report)
    assert titles, "the report has charts"
    opened = open_html(render(report, "html").decode())
    page = opened.page
    assert all(url.startswith("file://") for url in opened.requests), opened.requests
    charts = page.locator("svg.chart")
    assert charts.count() == len(titles)
    for i in range(charts.count()):
        box = charts.nth(i).bounding_box()
        assert box is not None and box["width"] > 300 and box["height"] > 120
        assert charts.nth(i).locator("path").count() > 10
    for title in titles:
        assert page.locator("figure.chart figcaption", has_text=title).first.is_visible(), title
    cards = page.locator("#section-headline .card")
    assert cards.count() >= 4
    for key_, text in zip(FOUR, four_numbers(report), strict=True):
        value = page.locator(f"#figure-headline-{key_} > .value")
        assert value.inner_text() == text and value.is_visible(), key_
    ids = page.eval_on_selector_all("[id]", "es => es.map(e => e.id)")
    assert len(ids) == len(set(ids))  # several sections may show the same figure
    assert_not_blank(opened.screenshot, f"the {key} screenshot")


@pytest.mark.parametrize("key", ["cfo", "qbr"])
def test_the_pdf_shows_the_charts_and_the_four_numbers(
    key: str,
    reports: dict[str, Report],
    pdfs: Callable[[str], tuple[bytes, RenderedPdf]],
    tmp_path: Path,
) -> None:
    import subprocess

    report = reports[key]
    pdf, rendered = pdfs(key)
    assert rendered.pages
    for i, png in enumerate(rendered.pages, start=1):
        assert_not_blank(png, f"{key} page {i}")
    for text in (*four_numbers(report), *charts_of(report)):
        assert text in rendered.text, text
    path = tmp_path / f"{key}.pdf"
    path.write_bytes(pdf)
    listing = subprocess.run(
        [require_tool("pdfimages"), "-list", str(path)], check=True, capture_output=True, text=True
    ).stdout
    assert sum(1 for line in listing.splitlines()[2:] if line.split()[2] == "image") == len(charts_of(report))
    assert render(report, "pdf") == pdf  # the same report, the same bytes


@pytest.mark.parametrize("key", ["cfo", "qbr"])
def test_the_pdf_prints_the_four_numbers_on_page_1_and_the_period_on_every_page(
    key: str, reports: dict[str, Report], pdfs: Callable[[str], tuple[bytes, RenderedPdf]]
) -> None:
    report = reports[key]
    _, rendered = pdfs(key)
    first = " ".join(rendered.page_texts[0].split())
    for text in four_numbers(report):
        assert text in first, text
    assert report.coverage is not None
    for number, page in enumerate(rendered.page_texts, start=1):
        header = page.strip().splitlines()[0]
        assert report.coverage.period in header and "as of 2026-11-01 00:00:00 UTC" in header, (
            number,
            header,
        )


def test_the_partner_chart_is_tall_enough_to_read(
    reports: dict[str, Report], open_html: Callable[[str], OpenedPage], tmp_path: Path
) -> None:
    import subprocess

    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from cosell.reports.charts import chart_figure

    chart = next(c for s in reports["partners"].sections for c in s.charts)
    assert len(chart.categories) == 10 and chart.horizontal
    fig = chart_figure(chart, "USD")
    FigureCanvasAgg(fig).draw()
    plot = fig.axes[0].get_window_extent()
    # The plot area, not the labels, takes most of the picture: at least a quarter inch per partner.
    assert plot.height / fig.dpi >= 0.25 * len(chart.categories), plot.height / fig.dpi
    assert plot.width / fig.dpi >= 2.5, plot.width / fig.dpi
    opened = open_html(render(reports["partners"], "html").decode())
    box = opened.page.locator("svg.chart").first.bounding_box()
    assert box is not None and box["height"] >= 300, box
    path = tmp_path / "partners.pdf"
    path.write_bytes(render(reports["partners"], "pdf"))
    listing = subprocess.run(
        [require_tool("pdfimages"), "-list", str(path)], check=True, capture_output=True, text=True
    ).stdout
    heights = [int(line.split()[4]) for line in listing.splitlines()[2:] if line.split()[2] == "image"]
    assert heights and min(heights) >= 4 * 200  # at least 4 inches at 200 dpi
