"""The pdf report as a reader sees it: pdftoppm page images, pdftotext text, page furniture, bytes."""

from __future__ import annotations

import pickle
import re
import subprocess
import sys
from collections.abc import Callable
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest

from cosell.policy import Policy
from cosell.report_model import Column
from cosell.report_model import Table as ReportTable
from cosell.reports.cfo import build_cfo
from cosell.reports.charts import _drawn
from cosell.reports.partners import build_partners
from cosell.reports.pdf import render_pdf
from cosell.reports.samples import CHART_TITLES, HEADLINE_TEXTS, HOSTILE_TEXT, sample_report
from metrics.metrics_support import AS_OF, Book

from .conftest import RenderedPdf, assert_not_blank, require_tool


@pytest.fixture(scope="module")
def sample_pdf() -> bytes:
    return render_pdf(sample_report())


def test_the_sample_pdf_has_pages_numbers_and_charts(
    sample_pdf: bytes, rasterize_pdf: Callable[[bytes], RenderedPdf]
) -> None:
    assert sample_pdf.startswith(b"%PDF-")
    rendered = rasterize_pdf(sample_pdf)
    assert len(rendered.pages) >= 2
    for i, png in enumerate(rendered.pages, start=1):
        assert_not_blank(png, f"page {i}")
    flat = rendered.text
    for text in (*HEADLINE_TEXTS, *CHART_TITLES, "benchmark 15-25%", "no partner deals won in 2026-Q1"):
        assert text in flat, text
    assert HOSTILE_TEXT in flat  # printed as given, markup and all
    total = len(rendered.pages)
    for number, page in enumerate(rendered.page_texts, start=1):
        assert "CFO dashboard: 2026-Q3" in page.splitlines()[0]  # the header
        assert f"page {number} of {total}" in page  # the footer


def _tool_output(tool: str, pdf: bytes, tmp_path: Path, *args: str) -> str:
    path = tmp_path / "doc.pdf"
    path.write_bytes(pdf)
    return subprocess.run(
        [require_tool(tool), *args, str(path), *(["-"] if tool == "pdftotext" else [])],
        check=True,
        capture_output=True,
        text=True,
    ).stdout


def test_every_chart_is_an_embedded_image(sample_pdf: bytes, tmp_path: Path) -> None:
    listing = _tool_output("pdfimages", sample_pdf, tmp_path, "-list")
    images = [line.split() for line in listing.splitlines()[2:]]
    charts = [row for row in images if row[2] == "image"]
    assert len(charts) == len(CHART_TITLES)
    assert all(int(row[3]) >= 1000 and row[12] == "200" for row in charts)  # 200 dpi, full width


def test_text_is_at_least_9_points_and_the_fonts_are_embedded(sample_pdf: bytes, tmp_path: Path) -> None:
    boxes = _tool_output("pdftotext", sample_pdf, tmp_path, "-bbox")
    heights = [
        float(b) - float(a) for a, b in re.findall(r'yMin="([\d.]+)" xMax="[\d.]+" yMax="([\d.]+)"', boxes)
    ]
    assert len(heights) > 200
    assert min(heights) >= 9.0
    fonts = _tool_output("pdffonts", sample_pdf, tmp_path)
    dejavu = [line.split() for line in fonts.splitlines() if "DejaVuSans" in line]
    assert len(dejavu) == 2 and all(row[-5] == "yes" for row in dejavu)  # embedded


def test_a_long_table_runs_over_pages_with_its_header_repeated(
    sample_pdf: bytes, rasterize_pdf: Callable[[bytes], RenderedPdf]
) -> None:
    short = rasterize_pdf(sample_pdf)
    long = rasterize_pdf(render_pdf(sample_report(partner_rows=300)))
    assert len(long.pages) >= len(short.pages) + 5
    flat = long.text
    assert all(f"Partner {n:04d}" in flat for n in (4, 150, 300))
    table_pages = [t for t in long.page_texts if re.search(r"Partner \d{4}", t)]
    assert len(table_pages) >= 6
    for page in table_pages:
        header = next(line for line in page.splitlines() if line.strip().startswith("Partner "))
        # the first row on every page is the header row (its first line), not a partner
        assert re.search(r"Partner\s+Sourced.*Influenced.*Win", header), header
    for number, page in enumerate(long.page_texts, start=1):
        assert f"page {number} of {len(long.pages)}" in page


def test_the_same_report_gives_the_same_bytes(sample_pdf: bytes, tmp_path: Path) -> None:
    _drawn.cache_clear()  # its charts drawn again, not the drawings kept
    assert render_pdf(sample_report()) == sample_pdf
    # and in a fresh process (another hash seed, fonts registered anew)
    out = tmp_path / "again.pdf"
    code = (
        "import sys; from cosell.reports.pdf import render_pdf; from cosell.reports.samples import sample_report; "
        "open(sys.argv[1], 'wb').write(render_pdf(sample_report()))"
    )
    subprocess.run([sys.executable, "-c", code, str(out)], check=True, env={"PYTHONHASHSEED": "12345"})
    assert out.read_bytes() == sample_pdf


def test_a_row_taller_than_a_page_runs_over_pages(
    rasterize_pdf: Callable[[bytes], RenderedPdf],
) -> None:
    # A partner named in 300 characters without a space (the CRM allows it) wrapped in the league
    # table's narrow name column to a row taller than the page: reportlab refused the whole pdf
    # (LayoutError, a traceback from `cosell report partners --format pdf`); the row now splits
    # over pages like a long table. And the columns, too wide for the page, were all scaled down,
    # splitting the amounts ("999,999,999,999." over "99"): now only the text columns give way.
    long_name = "Ω" * 100 + "😀" * 100 + "x" * 100
    ws = (
        Book()
        .won("S1", "2026-07-01", "2026-07-31", "999999999999.99", "sourced",
             credits=(("P1", "sourcer", "1.000000", "999999999999.99"),))
        .won("S2", "2026-07-01", "2026-08-31", "1000.00", "sourced",
             credits=(("P2", "sourcer", "1.000000", "1000.00"),))
        .rows("partners", {"partner_id": "P1", "name": long_name, "partner_type": "services"},
              {"partner_id": "P2", "name": "Second Partner", "partner_type": "agency"})
        .save()
    )  # fmt: skip
    rendered = rasterize_pdf(render_pdf(build_partners(ws.con, Policy(), None, AS_OF)))
    flat = "".join(rendered.text.split())
    assert "x" * 100 in flat and "SecondPartner" in flat  # the whole long row, and the row after it
    assert rendered.text.count("999,999,999,999.99") == 2  # sourced and credited, each on one line
    assert "Accelerate d" not in rendered.text  # a header word is not broken either


def test_a_trillion_dollar_quarter_keeps_its_numbers_and_quarters_whole(
    rasterize_pdf: Callable[[bytes], RenderedPdf],
) -> None:
    # A sourced deal of 123,456,789,012.34 USD printed its headline card value as "123,456,792,912.8"
    # over "2 USD", and squeezed the trend table's Quarter column until "2027-Q3" read "202 / 7-Q / 3"
    # (the numbers' header words, "partner-sourced", left it no room). Now the card's value is set
    # smaller to fit and the headers' words give way before a value does (found by fuzzing reports).
    ws = (
        Book()
        .won("S1", "2026-07-01", "2026-07-31", "123456789012.34", "sourced")
        .won("D1", "2026-07-02", "2026-08-31", "1000.00")
        .save()
    )
    rendered = rasterize_pdf(render_pdf(build_cfo(ws.con, Policy(), "2026-Q3", AS_OF)))
    lines = [line for page in rendered.page_texts for line in page.splitlines()]
    cut = [line for line in lines if "123,456,789,012." in line and "123,456,789,012.34" not in line]
    assert not cut
    assert sum("123,456,789,012.34" in line for line in lines) >= 3  # the card, the trend, pipeline
    trend = [line.split()[0] for line in lines if line.split() and line.split()[0].startswith("20")]
    for quarter in ("2024-Q4", "2025-Q1", "2025-Q2", "2025-Q3", "2025-Q4", "2026-Q1", "2026-Q2", "2026-Q3"):
        assert quarter in trend, quarter
    assert not [w for w in trend if re.fullmatch(r"20\d", w)]  # no quarter broken after its century


def test_the_figures_beside_the_four_numbers_keep_their_values_whole(
    rasterize_pdf: Callable[[bytes], RenderedPdf],
) -> None:
    # The table of figures beside the dashboard's four numbers gave its Value column a fixed 14% of
    # the page: a deal of the largest amount an import accepts (14 digits) made "All pipeline
    # created" print as "100,000,000,000,999." over "99 USD". Now the column is as wide as its
    # widest value (found by fuzzing the CFO dashboard).
    ws = (
        Book()
        .won("S1", "2026-07-01", "2026-07-31", "99999999999999.99", "sourced")
        .won("D1", "2026-07-02", "2026-08-31", "1000.00")
        .save()
    )
    rendered = rasterize_pdf(render_pdf(build_cfo(ws.con, Policy(), "2026-Q3", AS_OF)))
    lines = [line for page in rendered.page_texts for line in page.splitlines()]
    total = "100,000,000,000,999.99"
    assert sum(total in line for line in lines) >= 3  # beside the sourced pipeline, in the trend, by tier
    assert not [line for line in lines if "100,000,000,000," in line and total not in line]


CJK_PARTNERS = {"P1": "株式会社ソニー", "P2": "Acme 北京 Partners", "P3": "삼성전자 Korea"}


def test_names_in_chinese_japanese_and_korean_print_as_written(
    rasterize_pdf: Callable[[bytes], RenderedPdf], tmp_path: Path
) -> None:
    # DejaVu Sans has no CJK glyph: a partner named 株式会社ソニー printed as nothing in the league
    # table (pdftotext read "P1  services") and as boxes in its chart. Such runs are now set in the
    # WenQuanYi Micro Hei shipped with cosell, embedded as a subset, Latin beside them in DejaVu.
    book = Book()
    for n, partner in enumerate(CJK_PARTNERS, start=1):
        amount = f"{n}000.00"
        book = book.won(f"S{n}", "2026-07-01", "2026-07-31", amount, "sourced",
                        credits=((partner, "sourcer", "1.000000", amount),))  # fmt: skip
    ws = book.rows(
        "partners",
        *({"partner_id": p, "name": name, "partner_type": "agency"} for p, name in CJK_PARTNERS.items()),
    ).save()
    report = build_partners(ws.con, Policy(), None, AS_OF)
    pdf = render_pdf(report)
    rendered = rasterize_pdf(pdf)
    flat = "".join(rendered.text.split())
    for name in CJK_PARTNERS.values():
        assert "".join(name.split()) in flat, name
    fonts = _tool_output("pdffonts", pdf, tmp_path)
    cjk = [line.split() for line in fonts.splitlines() if "WenQuanYiMicroHei" in line]
    assert cjk and cjk[0][-5:-3] == ["yes", "yes"]  # embedded, as a subset: no font of the reader's
    # The same bytes again, and in a fresh process (the CJK font read anew, another hash seed).
    assert render_pdf(report) == pdf
    pickled, out = tmp_path / "report.pickle", tmp_path / "again.pdf"
    pickled.write_bytes(pickle.dumps(report))
    code = (
        "import pickle, sys; from cosell.reports.pdf import render_pdf; "
        "open(sys.argv[2], 'wb').write(render_pdf(pickle.load(open(sys.argv[1], 'rb'))))"
    )
    subprocess.run(
        [sys.executable, "-c", code, str(pickled), str(out)], check=True, env={"PYTHONHASHSEED": "7"}
    )
    assert out.read_bytes() == pdf


def test_a_cjk_name_in_the_title_prints_in_every_page_header(
    rasterize_pdf: Callable[[bytes], RenderedPdf],
) -> None:
    # A partner statement's title names its partner; the running header was drawn in DejaVu alone.
    report = replace(sample_report(partner_rows=60), title="Partner statement: 株式会社ソニー (P1)")
    rendered = rasterize_pdf(render_pdf(report))
    assert len(rendered.page_texts) >= 2
    for page in rendered.page_texts:
        assert "Partner statement: 株式会社ソニー (P1)" in page.splitlines()[0]


def test_25_digit_amounts_print_whole_on_cards_beside_them_and_in_a_wide_table(
    rasterize_pdf: Callable[[bytes], RenderedPdf],
) -> None:
    # A 25-digit amount (38 characters with separators and currency) was split over two lines on a
    # headline card a quarter of the page wide ("1,234,567,890,123,456,789,012" over ",345.67 USD"),
    # and a table of four such amounts was scaled to the page, each split after its 18th digit.
    # Now the cards stand fewer to a row and the table prints as two grids, the row's key repeated.
    big = Decimal("1234567890123456789012345.67")
    whole = "1,234,567,890,123,456,789,012,345.67"
    report = sample_report()
    headline, *middle, partners = report.sections
    first, *others = headline.figures
    first = replace(first, value=big, beside=(replace(first.beside[0], key="all", unit="money", value=big),))
    assert partners.table is not None
    columns = (
        *partners.table.columns,
        Column("credited", "Credited", "money"),
        Column("accelerated", "Accelerated", "money"),
    )
    rows = tuple(
        {**row, "sourced": big, "influenced": big, "credited": big, "accelerated": big}
        for row in partners.table.rows
    )
    report = replace(
        report,
        sections=(
            replace(headline, figures=(first, *others)),
            *middle,
            replace(partners, table=ReportTable(columns=columns, rows=rows)),
        ),
    )
    lines = [line for page in rasterize_pdf(render_pdf(report)).page_texts for line in page.splitlines()]
    assert not [line for line in lines if ("1,234," in line or "345.67" in line) and whole not in line]
    # the card, the figure beside it (on the card and in the table under the row), 3 rows x 4 amounts
    assert sum(line.count(whole) for line in lines) == 1 + 2 + 12
    assert sum("Northwind" in line for line in lines) == 2  # each grid names the row
