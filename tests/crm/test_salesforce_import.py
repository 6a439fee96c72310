"""``cosell import salesforce``: the org of crm_fixtures in every export shape, row by row."""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

import pytest
from crm_fixtures import (
    ACME,
    ANA,
    CAFE,
    CONTOSO,
    CUSTOMER_CONTACT,
    LEAD,
    LOG,
    OPEN,
    PARTNER_CONTACT,
    PARTNER_USER,
    WON,
    mapping,
    write_org,
)

from cosell.crm.canonical import Translation
from cosell.crm.mapping import parse_mapping
from cosell.errors import ImportFailed
from cosell.instants import format_instant, parse_instant
from cosell.policy import Policy
from cosell.service.crm_import import import_crm, mapping_for, translate
from cosell.service.workspace import open_workspace
from cosell.store.schema import TABLES, TABLES_BY_NAME


@pytest.fixture(autouse=True)
def _fixed_time(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COSELL_NOW", "2026-05-01T00:00:00Z")
    monkeypatch.setenv("COSELL_USER", "tester")


def _translate(folder: Path, style: str, text: str | None = None) -> Translation:
    return translate("salesforce", folder, parse_mapping(text or mapping(style), "salesforce"), Policy())


def _rows(t: Translation, table: str, normalise: bool = False) -> list[dict[str, str]]:
    columns = TABLES_BY_NAME[table].column_names
    kinds = {c.name: c.kind for c in TABLES_BY_NAME[table].columns}
    out = []
    for row in t.rows(table):
        values = dict(zip(columns, row, strict=True))
        if normalise:
            values = {
                k: format_instant(parse_instant(v)) if kinds[k] == "instant" and v else v
                for k, v in values.items()
            }
        out.append({k: v for k, v in values.items() if v})
    return out


def test_a_data_loader_export_becomes_these_canonical_rows(tmp_path: Path) -> None:
    t = _translate(write_org(tmp_path / "sf", "loader"), "loader")
    assert _rows(t, "accounts") == [
        {
            "account_id": ACME,
            "name": "Northwind",
            "domain": "northwind.com",
            "country": "US",
            "owner_id": ANA,
        },
        {"account_id": CAFE, "name": "Café Réseau", "country": "FR", "owner_id": ANA},
    ]
    assert _rows(t, "partners") == [
        {
            "partner_id": CONTOSO,
            "name": "Contoso Partners",
            "domain": "contoso.io",
            "partner_type": "reseller",
        }
    ]
    assert _rows(t, "users") == [
        {"user_id": ANA, "name": "Ana Ruiz", "email": "ana@ourco.com", "role": "ae"},
        {
            "user_id": PARTNER_USER,
            "name": "Pat O’Neil",
            "email": "pat@contoso.io",
            "role": "partner",
            "partner_id": CONTOSO,
        },
    ]
    assert _rows(t, "partner_contacts") == [
        {
            "contact_id": PARTNER_CONTACT,
            "partner_id": CONTOSO,
            "name": "Carla Diaz",
            "email": "carla@contoso.io",
        }
    ]
    assert _rows(t, "leads") == [
        {
            "lead_id": LEAD,
            "created_at": "2026-01-05T16:02:00.000+0000",
            "company": "Northwind",
            "email": "cfo@northwind.com",
            "account_id": ACME,
            "source": "partner_referral",
            "partner_id": CONTOSO,
            "converted_opportunity_id": WON,
            "converted_at": "2026-01-20",
        }
    ]
    won, still_open = _rows(t, "opportunities")
    assert won == {
        "opportunity_id": WON,
        "account_id": ACME,
        "created_at": "2026-01-20T10:00:00.000+0000",
        "amount": "48000.00",
        "currency": "USD",
        "stage": "Closed Won",
        "owner_id": ANA,
        "close_date": "2026-04-30",
        "is_closed": "true",
        "is_won": "true",
        "source_lead_id": LEAD,
        "partner_source": "sourced",
        "partner_id": CONTOSO,
        "partner_contact_id": PARTNER_CONTACT,
        "partner_engagement_date": "2026-01-10",
        "partner_activity_log": LOG,
    }
    # The all-zero lookup is an empty partner, an empty picklist an unconfirmed source.
    assert still_open == {
        "opportunity_id": OPEN,
        "account_id": CAFE,
        "created_at": "2026-02-02T08:30:00.000+0000",
        "amount": "1200.50",
        "currency": "EUR",
        "stage": "Negotiation",
        "owner_id": ANA,
        "close_date": "2026-06-30",
        "is_closed": "false",
        "is_won": "false",
    }
    # Five history rows, three entries: each at the earliest row of its run, whatever the file order.
    assert _rows(t, "stage_history") == [
        {"opportunity_id": WON, "stage": "Prospecting", "entered_at": "2026-01-20T10:00:00.000+0000"},
        {"opportunity_id": WON, "stage": "Negotiation", "entered_at": "2026-03-01T14:15:00.000+0000"},
        {"opportunity_id": WON, "stage": "Closed Won", "entered_at": "2026-04-28T15:00:00.000+0000"},
    ]
    assert _rows(t, "field_history") == [
        {
            "opportunity_id": WON,
            "field": "partner_source",
            "new_value": "sourced",
            "changed_at": "2026-01-21T09:00:00.000+0000",
            "changed_by": ANA,
        }
    ]
    assert _rows(t, "opportunity_partners") == [
        {
            "opportunity_id": WON,
            "partner_id": CONTOSO,
            "role": "reseller",
            "added_at": "2026-01-21T09:00:00.000+0000",
            "is_primary": "true",
        }
    ]
    assert _rows(t, "touches") == [
        {
            "touch_id": "00TA00000000001",
            "occurred_at": "2026-02-03",
            "account_id": ACME,
            "actor": "partner",
            "kind": "joint_call",
            "opportunity_id": WON,
            "partner_contact_id": PARTNER_CONTACT,  # its partner is the contact's (SPEC section 1)
            "user_id": ANA,
            "notes": "Joint discovery",
        },
        {
            "touch_id": "00TA00000000002",
            "occurred_at": "2026-02-10",
            "account_id": ACME,
            "actor": "direct",
            "kind": "outbound_call",
            "user_id": ANA,
            "notes": "Follow-up",
        },
    ]
    assert [str(s) for s in t.skipped] == [
        "OpportunityFieldHistory.csv row 3: not one of the five declared fields",
        "OpportunityHistory.csv 2 rows from row 2: the deal was already in this stage (its entry is an earlier row)",
        "Task.csv row 4: no customer account (WhatId, AccountId and WhoId name none in the export)",
    ]
    assert CUSTOMER_CONTACT not in {r.get("partner_contact_id") for r in _rows(t, "touches")}


@pytest.mark.parametrize("style", ["export", "report"])
def test_every_export_shape_gives_the_same_rows(tmp_path: Path, style: str) -> None:
    expected = _translate(write_org(tmp_path / "loader", "loader"), "loader")
    got = _translate(write_org(tmp_path / style, style), style)
    for table in TABLES:
        assert _rows(got, table.name, normalise=True) == _rows(expected, table.name, normalise=True), (
            table.name
        )


def test_a_zip_reads_like_its_folder(tmp_path: Path) -> None:
    folder = write_org(tmp_path / "sf", "loader")
    archive = tmp_path / "export.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for f in sorted(folder.iterdir()):
            z.write(f, f"WE_00D000000000001_1/{f.name}")
    got, expected = _translate(archive, "loader"), _translate(folder, "loader")
    for table in TABLES:
        assert _rows(got, table.name) == _rows(expected, table.name)


@pytest.mark.parametrize("fault", ["damaged", "encrypted"])
def test_a_zip_member_that_cannot_be_read_is_named(tmp_path: Path, fault: str) -> None:
    folder = write_org(tmp_path / "sf", "loader")
    archive = tmp_path / "export.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_STORED) as z:
        z.write(folder / "Account.csv", "Account.csv")
    data = bytearray(archive.read_bytes())
    if fault == "damaged":
        data[30 + len("Account.csv") + 5] ^= 0xFF  # a byte of its data: its CRC-32 no longer matches
        reason = "cannot be read from the zip: Bad CRC-32 for file 'Account.csv'"
    else:  # the flag of an encrypted member, in its local and its central header
        data[6] |= 1
        data[data.find(b"PK\x01\x02") + 8] |= 1
        reason = (
            "cannot be read from the zip: File 'Account.csv' is encrypted, password required for extraction"
        )
    archive.write_bytes(bytes(data))
    with pytest.raises(ImportFailed) as caught:
        _translate(archive, "loader")
    assert [str(p) for p in caught.value.problems] == [f"Account.csv: {reason}"]


@pytest.mark.parametrize(
    ("kind", "reason"),
    [
        ("directory", "is a directory, not a file"),
        ("loop", "is a link that leads back to itself, not to a file"),
        ("broken", "is a link that leads nowhere (no file where it points)"),
    ],
)
def test_an_export_file_that_is_no_file_is_refused_by_its_name(
    tmp_path: Path, kind: str, reason: str
) -> None:
    # It was skipped: "Opportunity.csv: missing", or, for an optional object, nothing at all.
    folder = write_org(tmp_path / "sf", "loader")
    for name in ("Opportunity.csv", "Task.csv"):
        path = folder / name
        path.unlink()
        if kind == "directory":
            path.mkdir()
        elif kind == "loop":
            path.symlink_to(name)
        else:
            path.symlink_to(tmp_path / "gone.csv")
    problems = _fails(tmp_path, folder, mapping("loader"))
    assert problems == [f"Opportunity.csv: {reason}", f"Task.csv: {reason}"]


def test_a_zip_member_damaged_in_its_first_block_is_named_when_its_header_is_read(tmp_path: Path) -> None:
    # read_header (the engine's path reads headers only) read the member's stream outside the
    # guard of open(): zlib's error reached the user.
    from cosell.crm.sources import SourceFile, read_header

    archive = tmp_path / "export.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("Account.csv", "Id,Name\n" + "".join(f"A{i},N{i}\n" for i in range(2000)))
    data = bytearray(archive.read_bytes())
    data[30 + len("Account.csv")] = 0xFF  # the first deflate block's type: 11, which none is
    archive.write_bytes(bytes(data))
    with pytest.raises(ImportFailed) as caught:
        read_header(SourceFile("Account.csv", archive, "Account.csv"), "utf-8")
    assert [str(p) for p in caught.value.problems] == [
        "Account.csv: cannot be read from the zip: Error -3 while decompressing data: invalid block type"
    ]


def test_the_import_stores_the_rows_and_a_second_import_changes_nothing(tmp_path: Path) -> None:
    folder = write_org(tmp_path / "sf", "loader")
    (tmp_path / "m.toml").write_text(mapping("loader"), encoding="utf-8")
    ws = open_workspace(str(tmp_path / "ws.duckdb"))
    try:
        first = import_crm(ws, "salesforce", folder, Policy(), mapping_path=tmp_path / "m.toml")
        counts = {t.table: (t.read, t.inserted, t.file) for t in first.report.tables}
        assert counts["opportunities"] == (2, 2, "Opportunity.csv")
        assert counts["touches"] == (2, 2, "Task.csv")
        assert counts["stage_history"] == (3, 3, "OpportunityHistory.csv")
        assert first.intake.tagged == 0  # declared sourced already: nothing to auto-tag
        stored = ws.con.execute(
            "SELECT opportunity_id, partner_source, partner_id, amount FROM cur_opportunities ORDER BY 1"
        ).fetchall()
        assert [(r[0], r[1], r[2], str(r[3])) for r in stored] == [
            (WON, "sourced", CONTOSO, "48000.0000"),
            (OPEN, None, None, "1200.5000"),
        ]
        second = import_crm(ws, "salesforce", folder, Policy(), mapping_path=tmp_path / "m.toml")
        assert {t.inserted + t.updated for t in second.report.tables} == {0}
    finally:
        ws.close()


def _fails(tmp_path: Path, folder: Path, text: str) -> list[str]:
    (tmp_path / "m.toml").write_text(text, encoding="utf-8")
    ws = open_workspace(str(tmp_path / "ws.duckdb"))
    try:
        with pytest.raises(ImportFailed) as caught:
            import_crm(ws, "salesforce", folder, Policy(), mapping_path=tmp_path / "m.toml")
        assert ws.con.execute("SELECT count(*) FROM opportunities").fetchone() == (0,)
    finally:
        ws.close()
    return [str(p) for p in caught.value.problems]


def test_a_bad_amount_is_named_at_the_export_file_row_and_column(tmp_path: Path) -> None:
    folder = write_org(tmp_path / "sf", "report")
    path = folder / "Opportunity.csv"
    path.write_bytes(path.read_bytes().replace(b"1200.50", b'"12,5OO"'))
    problems = _fails(tmp_path, folder, mapping("report"))
    assert len(problems) == 1
    assert problems[0].startswith('Opportunity.csv row 3, Amount: "12,5OO" ')


def test_a_reference_to_a_missing_account_is_named_where_the_deal_names_it(tmp_path: Path) -> None:
    folder = write_org(tmp_path / "sf", "report")
    path = folder / "Opportunity.csv"
    path.write_bytes(path.read_bytes().replace(CAFE.encode(), b"001A00000000009"))
    problems = _fails(tmp_path, folder, mapping("report"))
    assert problems[0].startswith('Opportunity.csv row 3, Account ID: "001A00000000009"'), problems


def test_an_excel_date_without_its_format_is_an_error_not_a_guess(tmp_path: Path) -> None:
    folder = write_org(tmp_path / "sf", "report")
    text = mapping("report").replace('CloseDate = "%m/%d/%y"\n', "", 1)
    problems = _fails(tmp_path, folder, text)
    assert problems[0].startswith('Opportunity.csv row 2, Close Date: "04/30/26" is not an ISO 8601 date')
    assert "[files.Opportunity.formats] CloseDate" in problems[0]
    assert problems[1].startswith('Opportunity.csv row 3, Close Date: "06/30/26" is not an ISO 8601 date')


def test_windows_1252_read_as_utf8_names_the_line_and_the_byte(tmp_path: Path) -> None:
    folder = write_org(tmp_path / "sf", "report")
    problems = _fails(tmp_path, folder, mapping("report").replace('"cp1252"', '"utf-8"'))
    assert problems == [
        'Account.csv row 4: "0xE9" is not a utf-8 byte: set encoding = "cp1252" (Windows) or "latin-1" '
        "for this file in the mapping"
    ]


def test_a_bad_byte_after_a_byte_order_mark_is_the_byte_named(tmp_path: Path) -> None:
    # Python's utf-8-sig decoder counts its error's place after the mark: 3 bytes early in the file.
    folder = write_org(tmp_path / "sf", "report")
    account = folder / "Account.csv"
    account.write_bytes(b"\xef\xbb\xbf" + account.read_bytes())
    problems = _fails(tmp_path, folder, mapping("report").replace('"cp1252"', '"utf-8"'))
    assert problems == [
        'Account.csv row 4: "0xE9" is not a utf-8 byte: set encoding = "cp1252" (Windows) or "latin-1" '
        "for this file in the mapping"
    ]


@pytest.mark.parametrize("name", ["Opportunity.csv", "Task.csv"])
def test_a_nul_byte_near_the_top_of_an_export_file_names_that_file_and_line(
    tmp_path: Path, name: str
) -> None:
    # As the canonical import reads a file's first 4 KB: a NUL there is a binary file, not a table.
    # The engine's path took it as a character and the import went through; the reference's named
    # the canonical file cosell wrote from it (opportunities.csv), without a row.
    folder = write_org(tmp_path / "sf", "loader")
    path = folder / name
    lines = path.read_bytes().split(b"\n")
    lines[2] = lines[2][:3] + b"\x00" + lines[2][3:]
    path.write_bytes(b"\n".join(lines))
    problems = _fails(tmp_path, folder, mapping("loader"))
    assert problems == [f"{name} row 3: is not a text table (it contains NUL bytes)"]


@pytest.mark.parametrize("in_engine", [True, False])
def test_a_nul_byte_deep_in_an_export_file_is_text_as_in_a_canonical_file(
    tmp_path: Path, in_engine: bool
) -> None:
    # Beyond the first 4 KB a NUL is a cell's character, as the canonical import takes it (which
    # reads no more of a 2 GB file to look for one), by the engine and by the reference alike.
    folder = write_org(tmp_path / "sf", "loader")
    path = folder / "Task.csv"
    header, first, *rows = path.read_bytes().splitlines()
    left_out = rows[-1]  # no customer account
    padding = [left_out.replace(b"00TA00000000003", f"00TA{i:011d}".encode()) for i in range(100, 200)]
    late = first.replace(b"00TA00000000001", b"00TA00000000099").replace(b"Joint discovery", b"Joint\x00call")
    path.write_bytes(b"\n".join([header, first, *rows, *padding, late, b""]))
    assert path.read_bytes().index(b"\x00") > 4096
    (tmp_path / "m.toml").write_text(mapping("loader"), encoding="utf-8")
    ws = open_workspace(str(tmp_path / "ws.duckdb"))
    try:
        done = import_crm(
            ws, "salesforce", folder, Policy(), mapping_path=tmp_path / "m.toml", in_engine=in_engine
        )
        assert {t.table: t.inserted for t in done.report.tables}["touches"] == 3
    finally:
        ws.close()


def _add_column(path: Path, name: str, value: str) -> None:
    header, *rows = path.read_bytes().splitlines()
    path.write_bytes(
        b"\n".join([header + f",{name}".encode(), *(r + f",{value}".encode() for r in rows), b""])
    )


@pytest.mark.parametrize(
    ("name", "column"), [("Task.csv", "Id"), ("Task.csv", "Subject"), ("Opportunity.csv", "StageName")]
)
def test_a_column_read_twice_in_a_header_is_refused_as_in_a_canonical_file(
    tmp_path: Path, name: str, column: str
) -> None:
    # Which of the two was read was the reader's choice (the engine and the reference alike took
    # the first); the import went through.
    folder = write_org(tmp_path / "sf", "loader")
    _add_column(folder / name, column, "X")
    problems = _fails(tmp_path, folder, mapping("loader"))
    assert problems == [f"{name} row 1, {column}: the column appears twice in the header"]


def test_a_column_not_read_may_appear_twice(tmp_path: Path) -> None:
    # A report may carry two fields under one label: a column cosell does not read is ambiguous
    # to no one, and refusing it would stop exports that import today.
    folder = write_org(tmp_path / "sf", "loader")
    _add_column(folder / "Task.csv", "Notes", "a")
    _add_column(folder / "Task.csv", "Notes", "b")
    (tmp_path / "m.toml").write_text(mapping("loader"), encoding="utf-8")
    ws = open_workspace(str(tmp_path / "ws.duckdb"))
    try:
        done = import_crm(ws, "salesforce", folder, Policy(), mapping_path=tmp_path / "m.toml")
        assert {t.table: t.inserted for t in done.report.tables}["touches"] == 2
    finally:
        ws.close()


def test_a_file_of_more_columns_than_the_limit_is_refused_at_its_header(tmp_path: Path) -> None:
    # As a canonical file's (cosell.data.csv_shape.MAX_COLUMNS): planning a statement over tens of
    # thousands of columns took the engine's translation minutes.
    from cosell.data.csv_shape import MAX_COLUMNS

    folder = write_org(tmp_path / "sf", "loader")
    path = folder / "Opportunity.csv"
    header, *rows = path.read_text(encoding="utf-8-sig").splitlines()
    extra = MAX_COLUMNS + 1 - len(header.split(","))
    lines = [header + "".join(f",x{i}" for i in range(extra)), *(row + "," * extra for row in rows)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8-sig")
    problems = _fails(tmp_path, folder, mapping("loader"))
    assert problems == [
        f"Opportunity.csv row 1: the header has 2,001 columns: a file may have at most {MAX_COLUMNS:,}"
    ]


@pytest.mark.parametrize(
    ("name", "separator", "first_line", "reason"),
    [
        ("Opportunity.csv", ";", "", 'is separated by ";", not by commas'),
        (
            "Task.csv",
            "\t",
            "",
            "is separated by a tab, not by commas",
        ),  # an activity file: read by the engine
        ("Opportunity.csv", ",", "sep=,", 'starts with a spreadsheet\'s "sep=" line'),
        ("Opportunity.csv", ";", "sep=;", 'starts with a spreadsheet\'s "sep=" line'),
    ],
)
def test_a_file_not_separated_by_commas_is_refused_at_its_header_saying_so(
    tmp_path: Path, name: str, separator: str, first_line: str, reason: str
) -> None:
    # Found by fuzzing import salesforce: a file saved in a European locale (";") was refused row
    # by row as "has 2 values, the header has 1" (up to 50 lines), never saying why.
    folder = write_org(tmp_path / "sf", "loader")
    path = folder / name
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"), newline="")))
    buffer = io.StringIO()
    if first_line:
        buffer.write(first_line + "\r\n")
    csv.writer(buffer, delimiter=separator, lineterminator="\r\n").writerows(rows)
    path.write_text(buffer.getvalue(), encoding="utf-8-sig")
    problems = _fails(tmp_path, folder, mapping("loader"))
    assert len(problems) == 1 and problems[0].startswith(f"{name} row 1: {reason}")


def test_an_unmapped_picklist_value_is_named_with_its_rows(tmp_path: Path) -> None:
    folder = write_org(tmp_path / "sf", "loader")
    problems = _fails(tmp_path, folder, mapping("loader").replace('"Partner Sourced" = "sourced"\n', ""))
    assert problems[0].startswith(
        'Opportunity.csv row 2, Partner_Source__c: "Partner Sourced" is not in [tiers]'
    )
    assert problems[1].startswith('OpportunityFieldHistory.csv row 2, NewValue: "Partner Sourced"')


def test_a_stage_the_policy_reads_otherwise_is_refused_at_its_mapping_line(tmp_path: Path) -> None:
    folder = write_org(tmp_path / "sf", "loader")
    text = mapping("loader").replace('"Negotiation" = "open"', '"Negotiation" = "lost"')
    problems = _fails(tmp_path, folder, text)
    line = text.splitlines().index('"Negotiation" = "lost"') + 1
    assert problems == [
        f'{tmp_path / "m.toml"} row {line}, stages.Negotiation: "Negotiation" is lost here but open by the policy: add '
        '"Negotiation" to stages.lost in the policy (the policy decides; the mapping says what the CRM means)'
    ]


def test_dated_conversion_rates_become_monthly_rates_in_the_workspace_currency(tmp_path: Path) -> None:
    folder = write_org(tmp_path / "sf", "loader")
    (folder / "CurrencyType.csv").write_text(
        "IsoCode,ConversionRate,IsCorporate\nUSD,1,1\nEUR,0.9,\n", encoding="utf-8"
    )
    (folder / "DatedConversionRate.csv").write_text(
        "IsoCode,ConversionRate,StartDate,NextStartDate\nEUR,0.8,2026-01-01,2026-03-01\nEUR,0.9,2026-03-01,\n",
        encoding="utf-8",
    )
    t = _translate(folder, "loader")
    # Salesforce: 0.8 EUR per USD from January, 0.9 from March; cosell: USD per EUR, each month the
    # rate in force on its first day, for the months the deals were created, closed or moved in
    # (January to June) and the months either side. December 2025 precedes every dated rate.
    assert [(r["period"], r["rate"]) for r in _rows(t, "fx_rates")] == [
        ("2026-01", "1.250000000000"),
        ("2026-02", "1.250000000000"),
        ("2026-03", "1.111111111111"),
        ("2026-04", "1.111111111111"),
        ("2026-05", "1.111111111111"),
        ("2026-06", "1.111111111111"),
        ("2026-07", "1.111111111111"),
    ]


def test_a_warehouse_connector_table_is_refused_by_name(tmp_path: Path) -> None:
    folder = tmp_path / "warehouse"
    folder.mkdir()
    (folder / "sf_opportunity_data.csv").write_text(
        "_fivetran_synced,id,stage_name,amount\n2024-01-01 00:00:00,006x,Closed Won,10\n", encoding="utf-8"
    )
    with pytest.raises(ImportFailed) as caught:
        _translate(folder, "loader")
    assert [str(p) for p in caught.value.problems] == [
        "sf_opportunity_data.csv row 1: is a warehouse connector's table (column _fivetran_synced), not a CRM "
        "export: export the objects from the CRM itself, or write the warehouse tables as canonical CSV "
        "(docs/crm-import.md)"
    ]


def test_the_command_prints_the_mapping_sections_as_written_and_exits_1(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from cosell.cli.app import app

    folder = write_org(tmp_path / "sf", "loader")
    (tmp_path / "m.toml").write_text(
        mapping("loader").replace('"Call" = "outbound_call"\n', ""), encoding="utf-8"
    )
    done = CliRunner().invoke(
        app,
        [
            "import",
            "salesforce",
            str(folder),
            "--mapping",
            str(tmp_path / "m.toml"),
            "-w",
            str(tmp_path / "w.duckdb"),
        ],
    )
    assert done.exit_code == 1
    # "[activities.kinds]" is text, not console markup that would swallow it.
    assert 'Task.csv row 3, Type: "Call" is not in [activities.kinds] of the mapping' in done.output
    assert "nothing from this import was applied" in done.output


def test_report_ids_of_15_characters_join_data_loader_ids_of_18_with_ids_18(tmp_path: Path) -> None:
    from cosell.crm.values import id18

    folder = write_org(tmp_path / "sf", "loader")
    account = folder / "Account.csv"  # as Data Loader writes it: 18-character ids
    text = account.read_text(encoding="utf-8-sig")
    for ident in (ACME, CONTOSO, CAFE):
        text = text.replace(ident + ",", id18(ident) + ",")
    account.write_text(text, encoding="utf-8-sig")
    problems = _fails(tmp_path, folder, mapping("loader"))
    assert any(p.startswith(f'Opportunity.csv row 2, AccountId: "{ACME}" is not in') for p in problems), (
        problems
    )
    t = _translate(folder, "loader", 'ids = "18"\n' + mapping("loader"))
    assert [r["account_id"] for r in _rows(t, "accounts")] == [id18(ACME), id18(CAFE)]
    won = _rows(t, "opportunities")[0]
    assert (won["opportunity_id"], won["account_id"], won["partner_id"]) == (
        id18(WON),
        id18(ACME),
        id18(CONTOSO),
    )
    assert {r["account_id"] for r in _rows(t, "touches")} == {id18(ACME)}
    assert id18("001Ec00000FzlUd") == "001Ec00000FzlUdIAJ"  # a real pair: Salesforce's own checksum


@pytest.mark.parametrize("with_fields", [True, False])
def test_without_a_mapping_the_blueprints_fields_are_read_where_the_export_has_them(
    tmp_path: Path, with_fields: bool
) -> None:
    # An org that installed `cosell blueprint` exports its five fields under those names and the
    # picklist's values: the import reads them without a mapping file. An export without them
    # still imports (the deals then declare nothing).
    folder = tmp_path / "x"
    folder.mkdir()
    (folder / "Account.csv").write_text(
        "Id,Name,IsPartner\n001C,Customer,0\n001P,Partner,1\n", encoding="utf-8"
    )
    head = "Id,AccountId,StageName,Amount,CreatedDate"
    row = "006A,001C,Prospecting,100.00,2026-01-05T10:00:00.000+0000"
    if with_fields:
        head += ",Partner_Source__c,Partner_Name__c,Partner_Engagement_Date__c"
        row += ",sourced,001P,2026-01-02"
    (folder / "Opportunity.csv").write_text(f"{head}\n{row}\n", encoding="utf-8")
    t = translate("salesforce", folder, mapping_for("salesforce", None), Policy())
    [deal] = _rows(t, "opportunities")
    got = tuple(deal.get(k, "")[:10] for k in ("partner_source", "partner_id", "partner_engagement_date"))
    assert got == (("sourced", "001P", "2026-01-02") if with_fields else ("", "", ""))


def test_a_reimport_writing_the_same_records_ids_in_18_characters_is_refused_not_doubled(
    tmp_path: Path,
) -> None:
    # Found by fuzzing a re-import: a report export (15-character ids) then a Data Loader export of
    # the same org (18) held every deal and account twice, pipeline counted twice, silently.
    folder = write_org(tmp_path / "sf", "loader")
    (tmp_path / "m.toml").write_text(mapping("loader"), encoding="utf-8")
    (tmp_path / "m18.toml").write_text(
        mapping("loader").replace('crm = "salesforce"', 'crm = "salesforce"\nids = "18"', 1), encoding="utf-8"
    )
    ws = open_workspace(str(tmp_path / "ws.duckdb"))
    try:
        import_crm(ws, "salesforce", folder, Policy(), mapping_path=tmp_path / "m.toml")
        count = "SELECT count(DISTINCT opportunity_id), count(*) FROM opportunities"
        before = ws.con.execute(count).fetchone()
        with pytest.raises(ImportFailed) as caught:
            import_crm(ws, "salesforce", folder, Policy(), mapping_path=tmp_path / "m18.toml")
        assert ws.con.execute(count).fetchone() == before
    finally:
        ws.close()
    problems = [str(p) for p in caught.value.problems]
    assert problems[0] == (
        'Opportunity.csv row 2, Id: "006A00000000001IAA" is the record the workspace holds as '
        '"006A00000000001" (Salesforce writes an id in 15 characters in reports, 18 in Data Loader): '
        "import exports that write ids as the first one did"
    )
    assert any(p.startswith("Account.csv row 2, Id:") for p in problems), problems


@pytest.mark.parametrize("nanos", ["000000", "000001"])
def test_a_history_entry_with_nanoseconds_is_read_only_when_exact(tmp_path: Path, nanos: str) -> None:
    """A Salesforce copy in a warehouse writes nine fraction digits: zeros past the sixth are the
    same instant (they were refused as "not an ISO 8601 date"); a non-zero one is refused with its
    reason, never truncated."""
    folder = write_org(tmp_path / "sf", "loader")
    history = folder / "OpportunityHistory.csv"
    written = f"2026-01-20T10:00:00.000{nanos}+0000"
    text = history.read_text(encoding="utf-8-sig").replace("2026-01-20T10:00:00.000+0000", written)
    history.write_text(text, encoding="utf-8")
    if nanos.strip("0"):
        problems = _fails(tmp_path, folder, mapping("loader"))
        assert problems == [
            f'OpportunityHistory.csv row 3, CreatedDate: "{written}" has a fraction of a second finer than a '
            "microsecond (a non-zero digit past the sixth): cosell keeps instants to the microsecond and "
            "cannot keep this one exactly"
        ]
        return
    entries = _rows(_translate(folder, "loader"), "stage_history", normalise=True)
    assert {"opportunity_id": WON, "stage": "Prospecting", "entered_at": "2026-01-20T10:00:00Z"} in entries
