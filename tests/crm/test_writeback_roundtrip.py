"""The issue's "Done when": ``cosell writeback`` followed by re-import changes nothing.

For each CRM: the demo's export is imported and attributed; the write-back file is applied to the
export the way the CRM's importer would (Data Loader's Update matched on Id, HubSpot's import
matched on the record id: cosell's columns added or updated on the matched rows, ``#N/A`` clearing
a Salesforce field, an empty HubSpot cell leaving the property as it was); the export is imported
again. No row is inserted or updated, and a new attribution run gives the same attribution and
credits, byte for byte.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cosell.asof import AsOf
from cosell.cli.app import app
from cosell.crm.fields import RECORD_ID, result_names
from cosell.crm.mapping import MappingInvalid, parse_mapping
from cosell.crm.writeback import SALESFORCE_NULL
from cosell.policy import Policy
from cosell.service.attribution import attribute_and_store
from cosell.service.crm_import import CrmImport, import_crm
from cosell.service.crm_writeback import writeback_to_file
from cosell.service.workspace import open_workspace
from cosell.store.workspace import Workspace

runner = CliRunner()
NOW = "2026-11-02T00:00:00Z"
DEALS = {"salesforce": "Opportunity.csv", "hubspot": "deals.csv"}
BOM = b"\xef\xbb\xbf"


@pytest.fixture(autouse=True)
def _fixed_time(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COSELL_NOW", NOW)
    monkeypatch.setenv("COSELL_USER", "tester")


def _attribute(ws: Workspace, out: Path) -> bytes:
    at = AsOf.resolve(known_at=datetime(2026, 11, 2, tzinfo=UTC))
    attribute_and_store(ws, Policy(), at, "role_weighted", by_user="tester", reason="test", results_to=out)
    return (out / "attribution.csv").read_bytes() + b"\n--\n" + (out / "credits.csv").read_bytes()


def apply_writeback(crm: str, export_file: Path, writeback_file: Path) -> int:
    """Apply the write-back file to the export file as the CRM's importer would; returns the number of
    export rows updated. Every write-back row must match an export row (else the importer refuses it)."""
    raw = export_file.read_bytes()
    bom = raw.startswith(BOM)
    rows = list(csv.reader(io.StringIO(raw.removeprefix(BOM).decode("utf-8"), newline="")))
    header, body = rows[0], rows[1:]
    with open(writeback_file, encoding="utf-8", newline="") as f:
        updates = list(csv.DictReader(f))
    key = RECORD_ID[crm]
    assert updates and next(iter(updates[0])) == key
    for column in list(updates[0])[1:]:
        if column not in header:
            header.append(column)
            for row in body:
                row.append("")
    by_id = {row[header.index(key)]: row for row in body}
    for update in updates:
        row = by_id[update[key]]  # a KeyError is a record the CRM does not have
        for column, value in list(update.items())[1:]:
            if crm == "salesforce":
                row[header.index(column)] = "" if value == SALESFORCE_NULL else value
            elif value != "":  # HubSpot's import leaves a property unchanged when its cell is empty
                row[header.index(column)] = value
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows([header, *body])
    export_file.write_bytes((BOM if bom else b"") + buffer.getvalue().encode("utf-8"))
    return len(updates)


def _changed(done: CrmImport) -> dict[str, tuple[int, int]]:
    return {t.table: (t.inserted, t.updated) for t in done.report.tables if t.inserted or t.updated}


@pytest.mark.parametrize("crm", ["salesforce", "hubspot"])
def test_writeback_then_reimport_changes_nothing(tmp_path: Path, crm: str) -> None:
    export = tmp_path / crm
    written = runner.invoke(app, ["demo", "--out", str(export), "--size", "120", "--crm", crm])
    assert written.exit_code == 0, written.output
    # The demo says the whole way: import, attribute, write back.
    assert f"  cosell attribute\n  cosell writeback {crm} --out DIR\n" in written.output
    mapping = export / f"{crm}-mapping.toml"
    ws = open_workspace(str(tmp_path / "ws.duckdb"))
    try:
        first = import_crm(ws, crm, export, Policy(), mapping_path=mapping)
        assert _changed(first)["opportunities"] == (120, 0)
        # A warning names the value as the export writes it, and what the mapping reads it as.
        warned = [str(w) for w in first.report.warnings if "touch kind" in w.reason]
        assert warned and all(' (mapped to "' in w for w in warned), warned
        assert any('Webinar View" (mapped to "webinar_view") is an unknown touch kind' in w for w in warned)
        before = _attribute(ws, tmp_path / "run1")
        wb = writeback_to_file(ws, crm, tmp_path / "wb")
        assert wb.source.deals == 120
        assert apply_writeback(crm, export / DEALS[crm], wb.path) == 120
        # The export now carries cosell's fields, with values in them.
        with open(export / DEALS[crm], encoding="utf-8-sig", newline="") as f:
            deals = list(csv.DictReader(f))
        tier = result_names(crm)[0]
        assert {d[tier] for d in deals} >= {"sourced", "influenced", "none"}
        again = import_crm(ws, crm, export, Policy(), mapping_path=mapping)
        assert _changed(again) == {}
        assert {t.table: t.read for t in again.report.tables}["opportunities"] == 120
        after = _attribute(ws, tmp_path / "run2")
    finally:
        ws.close()
    assert after == before


@pytest.mark.parametrize("crm", ["salesforce", "hubspot"])
def test_a_mapping_that_reads_cosells_own_field_as_a_declared_one_is_refused(
    tmp_path: Path, crm: str
) -> None:
    # Were cosell's primary partner read as the rep's Partner Name, each write-back would feed cosell's
    # output back as its input: a re-import after it would change deals. Refused at the mapping's line.
    own = result_names(crm)[1]  # the primary partner
    deal = "Opportunity" if crm == "salesforce" else "deals"
    text = (
        f'crm = "{crm}"\n\n[fields]\npartner_source = "partner_source_x"\npartner_id = "{own}"\n\n'
        f'[files.{deal}.columns]\n{RECORD_ID[crm]} = "cosell Tier"\n'
    )
    with pytest.raises(MappingInvalid) as caught:
        parse_mapping(text, crm, "m.toml")
    assert caught.value.problems == [
        f'm.toml line 5, fields.partner_id: "{own}" is cosell\'s own field (`cosell writeback` fills it), '
        "not one a rep fills in: name the CRM field that holds what the rep declared",
        f'm.toml line 8, files.{deal}.columns.{RECORD_ID[crm]}: "cosell Tier" is cosell\'s own field '
        "(`cosell writeback` fills it), not one a rep fills in: name the CRM field that holds what the rep "
        "declared",
    ]
