"""Statement lines a partner can read: the deal's account, amount, currency and close beside its id,
as posted, in every format; a negative closing balance and a blocked payout stand out."""

from __future__ import annotations

import csv
import io
import json
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path

import openpyxl

from cosell.entries import Entry
from cosell.pay.payouts import approve_run, propose_run
from cosell.pay.posting import post_period
from cosell.pay.statements import statement
from cosell.reports.html import render_html
from cosell.reports.model import Report
from cosell.reports.render import render
from cosell.store.ledger import insert_entries

sys.path.insert(0, str(Path(__file__).parent))
from ledger_support import PRICER, PayWorld, at

D = Decimal


def world() -> PayWorld:
    """P1 sources O1 (10,000.00 USD at Acme-Nord GmbH, closed 2026-09-15) and O2 (8,000.00 EUR at
    Zeta, closed 2026-09-20, EUR at 1.10): 1,000.00 + 880.00, paid in September. In October a
    dispute finds O1 direct: P1's 1,000.00 is clawed back and its balance is -120.00, blocked."""
    w = PayWorld()
    w.partner("P1")
    w.user("U1")
    w.user("F1", "finance")
    w.account("A1", "Acme-Nord GmbH")
    w.account("A2", "Zeta & Söhne <AG>")
    w.fx("EUR", "2026-09", "1.100000")
    w.deal("O1", "10000.00", account="A1")
    w.deal("O2", "8000.00", "2026-09-20T08:00:00Z", currency="EUR", account="A2")
    w.attribute({"O1": ("sourced", [("P1", "sourcer", "1.000000", "10000.00")]),
                 "O2": ("sourced", [("P1", "sourcer", "1.000000", "8000.00")])})  # fmt: skip
    post_period(w.ws, w.policy, PRICER, "2026-09", "fin", at("2026-10-01T06:00:00Z"))
    run, _ = propose_run(w.ws, w.policy, "2026-09", "fin", at("2026-10-01T07:00:00Z"))
    approve_run(w.ws, w.policy, run.run_id, "F1", at("2026-10-01T08:00:00Z"))
    # An earning of 760.00 on O2 in October keeps the rest of the story in sight: -1,000.00 + 880.00.
    w.attribute({"O1": ("none", [])}, kind="dispute", reason="direct first", source="dispute:D-000001")
    post_period(w.ws, w.policy, PRICER, "2026-10", "fin", at("2026-11-01T06:00:00Z"))
    return w


def october(w: PayWorld) -> Report:
    return statement(w.ws.con, "partner", "P1", "2026-10", "USD")


def test_each_line_shows_the_deals_account_amount_currency_and_close_as_posted() -> None:
    w = world()
    september = statement(w.ws.con, "partner", "P1", "2026-09", "USD")
    table = september.sections[1].table
    assert table is not None
    assert [
        (
            r["opportunity_id"],
            r["account_name"],
            r["deal_amount"],
            r["deal_currency"],
            r["closed_on"],
            r["amount"],
        )
        for r in table.rows
    ] == [
        ("O1", "Acme-Nord GmbH", D("10000.00"), "USD", date(2026, 9, 15), D("1000.00")),
        ("O2", "Zeta & Söhne <AG>", D("8000.00"), "EUR", date(2026, 9, 20), D("880.00")),
    ]
    # The CRM changes later: the September lines still show the deal as it was posted.
    w.account("A1", "Acme Nord (renamed)", at("2026-12-01T00:00:00Z"))
    w.deal("O1", "99999.00", account="A1", when=at("2026-12-01T00:00:00Z"))
    again = statement(w.ws.con, "partner", "P1", "2026-09", "USD").sections[1].table
    assert again == table
    # The October clawback line carries the deal as it was when the clawback was posted.
    claw = october(w).sections[1].table
    assert claw is not None
    assert [(r["opportunity_id"], r["account_name"], r["deal_amount"], r["kind"]) for r in claw.rows] == [
        ("O1", "Acme-Nord GmbH", D("10000.00"), "clawback (paid)")
    ]


def test_entries_posted_before_deals_were_recorded_show_the_deal_as_the_crm_has_it() -> None:
    w = world()
    # An earning as an older cosell wrote it: no ledger_posted_deals row for its posting.
    old = Entry(
        "LE-00000005", "O2|partner:P1|manual|plan@1|1|partner_payout", at("2026-10-31T23:59:59.999999Z"),
        at("2026-11-02T00:00:00Z"), "2026-10", 99, "partner", "P1", "O2", "partner_payout", "manual", "plan@1",
        1, D("10.00"), "USD", "a manual test entry", None, None, "fin", "test",
    )  # fmt: skip
    with w.ws.transaction():
        insert_entries(w.ws.con, [old])
    table = october(w).sections[1].table
    assert table is not None
    row = next(r for r in table.rows if r["entry_id"] == "LE-00000005")
    assert (row["account_name"], row["deal_amount"], row["deal_currency"], row["closed_on"]) == (
        "Zeta & Söhne <AG>", D("8000.00"), "EUR", date(2026, 9, 20),
    )  # fmt: skip


def test_every_format_carries_the_new_fields_and_the_alerts() -> None:
    report = october(world())
    # json: explicit fields per line, and every alert with raised true or false.
    data = json.loads(render(report, "json"))
    (line,) = data["sections"]["entries"]["table"]["rows"]
    assert (line["account_name"], line["deal_amount"], line["deal_currency"], line["closed_on"]) == (
        "Acme-Nord GmbH", "10000.00", "USD", "2026-09-15",
    )  # fmt: skip
    assert line["reason"] == "attribution changed: version 2 (dispute, dispute:D-000001: direct first)"
    assert data["alerts"]["negative_closing_balance"]["raised"] is True
    assert data["alerts"]["payouts_blocked"]["raised"] is True
    assert data["alerts"]["payouts_blocked"]["figure"] == "closing_balance"
    assert data["sections"]["summary"]["figures"]["closing_balance"]["value"] == "-1000.00"
    # csv: the columns, and one alert row per alert.
    text = render(report, "csv").decode()
    blocks = text.split("\n\n")
    entries = list(csv.DictReader(io.StringIO(blocks[2])))
    assert (entries[0]["account_name"], entries[0]["deal_amount"], entries[0]["closed_on"]) == (
        "Acme-Nord GmbH", "10000.00", "2026-09-15",
    )  # fmt: skip
    head = list(csv.reader(io.StringIO(blocks[0])))
    alerts = {row[1]: row[2] for row in head if row[0] == "alert"}
    assert set(alerts) == {"negative_closing_balance", "payouts_blocked"}
    assert alerts["negative_closing_balance"].startswith("the closing balance of -1,000.00 USD")
    # xlsx: typed cells, the deal amount in its own currency's format, the alert rows in red.
    book = openpyxl.load_workbook(io.BytesIO(render(report, "xlsx")))
    sheet = book["entries"]
    cells = [[c.value for c in row] for row in sheet.iter_rows()]
    header = next(r for r in cells if r and r[0] == "Entry")
    row = cells[cells.index(header) + 1]
    found = dict(zip(header, row, strict=False))
    assert (found["Account"], found["Deal amount"], found["Deal currency"], found["Closed"]) == (
        "Acme-Nord GmbH", D("10000"), "USD", openpyxl.utils.datetime.from_excel(46280),
    )  # fmt: skip
    cover = book["report"]
    marked = [r for r in cover.iter_rows() if r[0].value == "Negative closing balance"]
    assert marked and marked[0][0].font.color.rgb == "00B3261E"
    summary = book["summary"]
    closing = next(r for r in summary.iter_rows() if r[1].value == "closing_balance")
    assert closing[3].font.bold and closing[3].font.color.rgb == "00B3261E"
    # html: the lines under the deal id, ids never broken, the alert and the marked card.
    page = render_html(report)
    assert '<span class="sub">Account:</span> Acme-Nord GmbH' in page
    assert '<span class="sub">Deal amount:</span> <span class="nw">10,000.00 USD</span>' in page
    assert '<span class="sub">Closed:</span> <span class="nw">2026-09-15</span>' in page
    assert (
        '<td class="id">O1<br>' in page and '<td class="id"><span class="nw">sourcer-pct</span><br>' in page
    )
    assert '<span class="nw">dispute:D-000001:</span>' in page  # an id inside a sentence stays whole
    assert 'id="alert-negative_closing_balance"' in page and 'id="alert-payouts_blocked"' in page
    assert 'class="card alert" id="figure-summary-closing_balance"' in page
    # table: the alerts before the sections, the deal's lines in its cell.
    table = render(report, "table").decode()
    assert "Negative closing balance: the closing balance of -1,000.00 USD is below zero" in table
    assert "Account: Acme-Nord GmbH" in table and "Deal amount: 10,000.00 USD" in table
    assert table.index("Payouts blocked:") < table.index("Entries of the period")


def test_the_pdf_prints_the_lines_whole_and_the_alerts(tmp_path: Path) -> None:
    import subprocess

    w = world()
    path = tmp_path / "october.pdf"
    path.write_bytes(render(october(w), "pdf"))
    text = subprocess.run(
        ["pdftotext", "-raw", str(path), "-"], check=True, capture_output=True, text=True
    ).stdout
    words = text.replace("\u00a0", " ").split()
    # Every id, date and amount is printed whole: a word of the text, never split over two lines.
    for whole in ("LE-00000004", "LE-00000001", "O1", "sourcer-pct", "plan@1", "2026-09-15", "10,000.00",
                  "Acme-Nord", "dispute:D-000001:", "-1,000.00"):  # fmt: skip
        assert whole in words, whole
    assert "10,000.00 USD" in text.splitlines()  # the amount and its currency on one line
    assert "Negative closing balance:" in text and "Payouts blocked:" in text
