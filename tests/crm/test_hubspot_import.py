"""``cosell import hubspot``: the portal of hubspot_fixtures with property names and with labels."""

from __future__ import annotations

from pathlib import Path

import pytest
from hubspot_fixtures import mapping, write_portal

from cosell.crm.canonical import Translation
from cosell.crm.mapping import parse_mapping
from cosell.errors import ImportFailed
from cosell.instants import format_instant, parse_instant
from cosell.policy import Policy
from cosell.service.crm_import import import_crm, translate
from cosell.service.workspace import open_workspace
from cosell.store.schema import TABLES, TABLES_BY_NAME


@pytest.fixture(autouse=True)
def _fixed_time(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COSELL_NOW", "2026-05-01T00:00:00Z")
    monkeypatch.setenv("COSELL_USER", "tester")


def _translate(folder: Path, labels: bool = False, text: str | None = None) -> Translation:
    return translate("hubspot", folder, parse_mapping(text or mapping(labels), "hubspot"), Policy())


def _rows(t: Translation, table: str) -> list[dict[str, str]]:
    spec = TABLES_BY_NAME[table]
    out = []
    for row in t.rows(table):
        values = dict(zip(spec.column_names, row, strict=True))
        for c in spec.columns:
            if c.kind == "instant" and values[c.name]:
                values[c.name] = format_instant(parse_instant(values[c.name]))
        out.append({k: v for k, v in values.items() if v})
    return out


def test_a_property_name_export_becomes_these_canonical_rows(tmp_path: Path) -> None:
    t = _translate(write_portal(tmp_path / "hs"))
    assert _rows(t, "accounts") == [
        {"account_id": "5001", "name": "Northwind", "domain": "northwind.com", "country": "US"},
        {"account_id": "5003", "name": "Café Réseau", "country": "FR"},
    ]
    assert _rows(t, "partners") == [
        {"partner_id": "5002", "name": "Contoso Partners", "domain": "contoso.io", "partner_type": "reseller"}
    ]
    assert _rows(t, "users") == [
        {"user_id": "101", "name": "Ana Ruiz", "email": "ana@ourco.com", "role": "ae"}
    ]
    assert _rows(t, "opportunities") == [
        {
            "opportunity_id": "9001",
            "account_id": "5001",
            "created_at": "2026-01-20T10:00:00Z",
            "amount": "48000",
            "currency": "USD",
            "stage": "Closed Won",
            "owner_id": "101",
            "close_date": "2026-05-01T00:00:00Z",
            "opportunity_type": "expansion",
            "partner_source": "sourced",
            "partner_id": "5002",
            "partner_contact_id": "7001",
            "partner_engagement_date": "2026-01-10T00:00:00Z",
            "partner_activity_log": "Joint call, 3 Feb",
        },
        {
            "opportunity_id": "9002",
            "account_id": "5003",  # from the associations file
            "created_at": "2026-02-02T08:30:00Z",
            "amount": "1200.50",
            "currency": "EUR",
            "stage": "Contract Sent",
            "owner_id": "101",
            "close_date": "2026-06-30T00:00:00Z",
        },
    ]
    # Stage ids become their pipeline labels; hs_v2_ wins over the legacy column, which is read
    # only where hs_v2_ is empty (9002); closedate (2026-05-01, overwritten on close) is not the
    # entry into Closed Won (2026-04-28 15:00).
    assert _rows(t, "stage_history") == [
        {"opportunity_id": "9001", "stage": "Appointment Scheduled", "entered_at": "2026-01-20T10:00:00Z"},
        {"opportunity_id": "9001", "stage": "Contract Sent", "entered_at": "2026-03-01T14:15:00Z"},
        {"opportunity_id": "9001", "stage": "Closed Won", "entered_at": "2026-04-28T15:00:00Z"},
        {"opportunity_id": "9002", "stage": "Contract Sent", "entered_at": "2026-02-05T09:00:00Z"},
    ]
    assert _rows(t, "opportunity_partners") == [
        {"opportunity_id": "9001", "partner_id": "5002", "role": "reseller"}
    ]
    assert _rows(t, "partner_contacts") == [
        {"contact_id": "7001", "partner_id": "5002", "name": "Carla Diaz", "email": "carla@contoso.io"}
    ]
    assert _rows(t, "touches") == [
        {
            "touch_id": "8001",
            "occurred_at": "2026-02-03T16:00:00Z",
            "account_id": "5001",
            "actor": "partner",
            "kind": "joint_call",
            "opportunity_id": "9001",
            "partner_contact_id": "7001",  # its partner is the contact's (SPEC section 1)
            "user_id": "101",
            "notes": "Joint discovery",
        },
        {
            "touch_id": "8002",
            "occurred_at": "2026-02-10T09:30:00Z",
            "account_id": "5001",
            "actor": "direct",
            "kind": "outbound_call",
            "user_id": "101",
            "notes": "Follow-up",
        },
    ]
    assert [str(s) for s in t.skipped] == [
        "calls.csv row 4: no customer company (no deal, company or contact of the export)"
    ]


def test_a_ui_export_with_labels_gives_the_same_rows(tmp_path: Path) -> None:
    names = _translate(write_portal(tmp_path / "names"))
    labels = _translate(write_portal(tmp_path / "labels", labels=True), labels=True)
    for table in TABLES:
        assert _rows(labels, table.name) == _rows(names, table.name), table.name


def test_the_import_stores_it_and_a_bad_stage_date_is_located(tmp_path: Path) -> None:
    folder = write_portal(tmp_path / "hs")
    (tmp_path / "m.toml").write_text(mapping(), encoding="utf-8")
    ws = open_workspace(str(tmp_path / "ws.duckdb"))
    try:
        done = import_crm(ws, "hubspot", folder, Policy(), mapping_path=tmp_path / "m.toml")
        assert {t.table: t.inserted for t in done.report.tables}["stage_history"] == 4
    finally:
        ws.close()
    deals = folder / "deals.csv"
    deals.write_text(
        deals.read_text(encoding="utf-8").replace("2026-03-01T14:15:00.000Z", "1 March"), encoding="utf-8"
    )
    ws = open_workspace(str(tmp_path / "ws2.duckdb"))
    try:
        with pytest.raises(ImportFailed) as caught:
            import_crm(ws, "hubspot", folder, Policy(), mapping_path=tmp_path / "m.toml")
    finally:
        ws.close()
    assert str(caught.value.problems[0]).startswith(
        'deals.csv row 2, hs_v2_date_entered_contractsent: "1 March" is not an ISO 8601 date'
    )


def test_a_stage_date_in_epoch_milliseconds_is_refused_with_what_it_is(tmp_path: Path) -> None:
    """A HubSpot date written as epoch milliseconds (as the API writes them) was refused as "not an
    ISO 8601 date" with a hint to name its format in the mapping, which no format can do."""
    folder = write_portal(tmp_path / "hs")
    deals = folder / "deals.csv"
    deals.write_text(
        deals.read_text(encoding="utf-8").replace("2026-03-01T14:15:00.000Z", "1772374500000"),
        encoding="utf-8",
    )
    with pytest.raises(ImportFailed) as caught:
        _translate(folder)
    assert [str(p) for p in caught.value.problems] == [
        'deals.csv row 2, hs_v2_date_entered_contractsent: "1772374500000" looks like epoch milliseconds '
        "(2026-03-01T14:15:00Z), which cosell does not read as a date: export the column as dates, or "
        "convert it to ISO 8601 (e.g. 2026-03-01T14:15:00Z) before the import"
    ]


def test_a_pipelines_file_without_its_stage_columns_is_refused_not_ignored(tmp_path: Path) -> None:
    # Ignored, its stage ids ("closedwon") became the deals' stages, which the policy reads as open.
    folder = write_portal(tmp_path / "hs")
    pipelines = folder / "pipelines.csv"
    text = pipelines.read_text(encoding="utf-8").replace("stage_id,stage_label", "Stage,Label", 1)
    pipelines.write_text(text, encoding="utf-8")
    with pytest.raises(ImportFailed) as caught:
        _translate(folder)
    problems = [str(p) for p in caught.value.problems]
    for column in ("stage_id", "stage_label"):
        missing = (
            f"pipelines.csv, {column}: required column is missing (if the file calls it otherwise, name it "
            "under [files.pipelines.columns] in the mapping)"
        )
        assert missing in problems, problems


@pytest.mark.parametrize("name", ["deals.csv", "calls.csv"])
def test_a_nul_byte_near_the_top_of_an_export_file_names_that_file_and_line(
    tmp_path: Path, name: str
) -> None:
    # It was named as the canonical file cosell wrote from it (opportunities.csv, touches.csv).
    folder = write_portal(tmp_path / "hs")
    path = folder / name
    lines = path.read_bytes().split(b"\n")
    lines[1] = lines[1][:2] + b"\x00" + lines[1][2:]
    path.write_bytes(b"\n".join(lines))
    with pytest.raises(ImportFailed) as caught:
        _translate(folder)
    assert [str(p) for p in caught.value.problems] == [
        f"{name} row 2: is not a text table (it contains NUL bytes)"
    ]


@pytest.mark.parametrize(
    ("name", "column"), [("calls.csv", "hs_timestamp"), ("deals.csv", "hs_v2_date_entered_closedwon")]
)
def test_a_column_read_twice_in_a_header_is_refused_as_in_a_canonical_file(
    tmp_path: Path, name: str, column: str
) -> None:
    folder = write_portal(tmp_path / "hs")
    path = folder / name
    header, *rows = path.read_bytes().splitlines()
    path.write_bytes(b"\n".join([header + f",{column}".encode(), *(r + b",2026-01-01" for r in rows), b""]))
    with pytest.raises(ImportFailed) as caught:
        _translate(folder)
    assert [str(p) for p in caught.value.problems] == [
        f"{name} row 1, {column}: the column appears twice in the header"
    ]


def test_map_init_drafts_a_hubspot_mapping_that_imports_the_export(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from cosell.cli.app import app

    runner = CliRunner()
    folder = write_portal(tmp_path / "hs")
    target = tmp_path / "m.toml"
    drafted = runner.invoke(app, ["crm", "map", "init", "hubspot", str(folder), "--out", str(target)])
    assert drafted.exit_code == 0, drafted.output
    text = target.read_text(encoding="utf-8")
    assert '"Closed Won" = "won"  # the pipeline says so' in text
    assert '"PARTNER" = "co_sell"  # CHECK: a partner type of company' in text
    assert 'kind_column = "hs_activity_type"' in text
    done = runner.invoke(
        app,
        ["import", "hubspot", str(folder), "--mapping", str(target), "-w", str(tmp_path / "ws.duckdb")],
        env={"COSELL_NOW": "2026-05-01T00:00:00Z"},
    )
    # The draft reads "Partner Joint Call" as a joint call and "Discovery Call" as an outbound call.
    assert done.exit_code == 0, done.output


@pytest.mark.parametrize("order", [("5001", "5002"), ("5002", "5001")])
def test_a_record_associated_with_its_customer_and_its_partner_reads_the_same_in_either_order(
    tmp_path: Path, order: tuple[str, str]
) -> None:
    # Found by fuzzing import hubspot: an activity whose Associated Company IDs listed the customer
    # and the partner was a direct touch (customer first) or left out (partner first), and a deal
    # whose cell listed the partner first was put on the partner's company.
    folder = write_portal(tmp_path / "hs")
    cell = ";".join(order)
    deals = (
        (folder / "deals.csv")
        .read_text(encoding="utf-8")
        .replace(",existingbusiness,5001,", f",existingbusiness,{cell},")
    )
    (folder / "deals.csv").write_text(deals, encoding="utf-8")
    with open(folder / "meetings.csv", "w", encoding="utf-8", newline="") as f:
        f.write("hs_object_id,hs_timestamp,hubspot_owner_id,hs_activity_type,Associated Company IDs\n")
        f.write(f'8101,2026-02-04T16:00:00Z,101,Partner Joint Call,"{cell}"\n')
    t = _translate(folder)
    [deal] = [r for r in _rows(t, "opportunities") if r["opportunity_id"] == "9001"]
    assert deal["account_id"] == "5001"
    [touch] = [r for r in _rows(t, "touches") if r["touch_id"] == "8101"]
    assert (touch["account_id"], touch["actor"], touch.get("partner_id")) == ("5001", "partner", "5002")


@pytest.mark.parametrize(
    ("written", "refused"),
    [("2026-03-01T14:15:00.000000000Z", False), ("2026-03-01T14:15:00.000000001Z", True)],
)
def test_a_stage_date_with_nanoseconds_is_read_only_when_exact(
    tmp_path: Path, written: str, refused: bool
) -> None:
    """Nine fraction digits, as a warehouse copy of the portal writes them, were refused as "not an
    ISO 8601 date": zeros past the sixth digit are the same instant; a non-zero one is refused with
    its reason (never truncated)."""
    folder = write_portal(tmp_path / "hs")
    deals = folder / "deals.csv"
    deals.write_text(
        deals.read_text(encoding="utf-8").replace("2026-03-01T14:15:00.000Z", written), encoding="utf-8"
    )
    if refused:
        with pytest.raises(ImportFailed) as caught:
            _translate(folder)
        assert [str(p) for p in caught.value.problems] == [
            f'deals.csv row 2, hs_v2_date_entered_contractsent: "{written}" has a fraction of a second '
            "finer than a microsecond (a non-zero digit past the sixth): cosell keeps instants to the "
            "microsecond and cannot keep this one exactly"
        ]
        return
    entries = _rows(_translate(folder), "stage_history")
    assert {
        "opportunity_id": "9001",
        "stage": "Contract Sent",
        "entered_at": "2026-03-01T14:15:00Z",
    } in entries
