"""``cosell blueprint`` and ``cosell writeback`` through the command line and the service layer, on the
small company of tests/service/whatif_world.py with one stored attribution run (and a partial one)."""

from __future__ import annotations

import csv
import io
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cosell.attribution.engine import attribute
from cosell.cli.app import app
from cosell.crm.fields import declared_names
from cosell.errors import UsageError
from cosell.policy import Policy
from cosell.service.crm_writeback import credentials_from, writeback_through_api
from cosell.store.attribution_store import run_rows, save_run
from cosell.store.versions import save_partial_run
from cosell.store.workspace import open_workspace

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "service"))
sys.path.insert(0, str(Path(__file__).parent))
from fake_crm import FakeSalesforce, serve
from whatif_world import T, small_world

ENV = {"COSELL_POLICY": None, "COSELL_WORKSPACE": None, "COLUMNS": "80", "COSELL_EXPLAIN_URL": None,
       "COSELL_SALESFORCE_INSTANCE_URL": None, "COSELL_SALESFORCE_ACCESS_TOKEN": None}  # fmt: skip


@pytest.fixture(scope="module")
def company(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The small company with a full attribution run, then a partial run re-deciding one deal."""
    folder = tmp_path_factory.mktemp("crm")
    ws = small_world(folder / "cosell.duckdb")
    try:
        run = attribute(ws.con, Policy(), T, known_at=T)
        save_run(ws.con, run, "tester", run_at=T)
        rows, _credits = run_rows(ws.con)
        first = rows[0]
        changed = replace(first, tier="none", primary_partner_id="", rules="OVR")
        save_partial_run(ws.con, [changed], [], kind="override", by_user="tester", reason="test",
                         policy_version=first.policy_version, model=first.model, as_of=T, run_at=T)  # fmt: skip
    finally:
        ws.close()
    return folder


def cosell(*args: str, env: dict[str, str | None] | None = None) -> tuple[int, str, str]:
    done = CliRunner().invoke(app, list(args), env={**ENV, **(env or {})})
    return done.exit_code, done.stdout, done.stderr


def test_blueprint_writes_every_file_and_says_what_next(tmp_path: Path) -> None:
    code, out, _ = cosell("blueprint", "salesforce", "--out", str(tmp_path / "sf"))
    assert code == 0
    assert "Wrote the Salesforce blueprint (18 files)" in out and "sf project deploy start" in out
    # What the gate does, in words, and every line readable at 80 columns.
    assert 'Stage gate: a deal enters "Closed Won" only with Partner Source set' in out
    assert max(len(line) for line in out.splitlines() if str(tmp_path) not in line) <= 80  # paths aside
    assert (tmp_path / "sf" / "package.xml").exists() and (tmp_path / "sf" / "sfdx-project.json").exists()
    code, out, _ = cosell("blueprint", "hubspot", "-o", str(tmp_path / "hs"))
    assert code == 0 and sorted(p.name for p in (tmp_path / "hs").iterdir()) == [
        "README.md", "properties.json", "property-group.json", "stage-gate.json"]  # fmt: skip


def test_blueprint_refuses_an_unknown_crm_and_a_file_as_folder(tmp_path: Path) -> None:
    assert cosell("blueprint", "sap", "--out", str(tmp_path))[0] == 2
    (tmp_path / "f").write_text("x")
    code, _, err = cosell("blueprint", "hubspot", "--out", str(tmp_path / "f"))
    assert code == 2 and "is a file, not a folder" in err


@pytest.mark.parametrize(
    ("crm", "in_the_way", "folder"),
    [
        ("hubspot", "stage-gate.json", True),
        ("salesforce", "force-app/main/default/permissionsets/Cosell_Writeback.permissionset-meta.xml", True),
        ("salesforce", "force-app/main/default/permissionsets", False),
    ],
)
def test_a_refused_blueprint_leaves_no_file_of_it_behind(
    tmp_path: Path, crm: str, in_the_way: str, folder: bool
) -> None:
    blocker = tmp_path / "bp" / in_the_way
    blocker.parent.mkdir(parents=True)
    blocker.mkdir() if folder else blocker.write_text("mine")
    code, _, err = cosell("blueprint", crm, "--out", str(tmp_path / "bp"))
    assert code == (2 if folder else 1)
    assert str(blocker) in " ".join(err.split())
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file()) == (
        [] if folder else [blocker.relative_to(tmp_path)]
    )


def test_writeback_writes_every_deals_newest_version(company: Path, tmp_path: Path) -> None:
    ws = str(company / "cosell.duckdb")
    code, out, _ = cosell("writeback", "salesforce", "--out", str(tmp_path), "-w", ws)
    assert code == 0, out
    rows = list(
        csv.DictReader(io.StringIO((tmp_path / "cosell-writeback-salesforce-opportunity.csv").read_text()))
    )
    assert f"Wrote {len(rows)} deals" in out and "up to run 2" in out
    # The file fills fields that must exist first: the command says which installs them.
    assert "It fills the Cosell_ fields that `cosell blueprint salesforce` installs." in out
    assert max(len(line) for line in out.splitlines() if str(tmp_path) not in line) <= 80
    assert len(rows) > 1 and not set(rows[0]) & declared_names("salesforce")
    first = rows[0]  # the deal the partial run re-decided: its newest version, not the full run's
    assert (first["Cosell_Tier__c"], first["Cosell_Primary_Partner__c"], first["Cosell_Rules__c"]) == (
        "none", "#N/A", "OVR")  # fmt: skip
    assert any(r["Cosell_Tier__c"] != "none" for r in rows[1:])


def test_writeback_needs_a_target_and_names_missing_credentials(company: Path, tmp_path: Path) -> None:
    ws = str(company / "cosell.duckdb")
    code, _, err = cosell("writeback", "hubspot", "-w", ws)
    assert code == 2 and "give --out DIR" in err
    code, _, err = cosell("writeback", "salesforce", "--api", "-w", ws)
    assert code == 2 and "COSELL_SALESFORCE_INSTANCE_URL and COSELL_SALESFORCE_ACCESS_TOKEN" in err
    # --format formats only the list of refused deals (--api): with --out alone "-f json" printed
    # the same text lines, which a script then failed to parse. Bad usage now, and nothing written.
    code, _, err = cosell("writeback", "hubspot", "--out", str(tmp_path / "wb"), "-f", "json", "-w", ws)
    assert code == 2 and "--format json formats the list of deals the CRM refused" in " ".join(err.split())
    assert not (tmp_path / "wb").exists()


def test_writeback_to_a_file_and_the_api_without_credentials_writes_nothing(
    company: Path, tmp_path: Path
) -> None:
    """Found by fuzzing writeback: the file was written, then the command failed (exit 2) on the
    missing credentials without saying the file was there."""
    out_dir = tmp_path / "out"
    code, _, err = cosell("writeback", "salesforce", "--out", str(out_dir), "--api", "-w",
                          str(company / "cosell.duckdb"))  # fmt: skip
    assert code == 2 and "COSELL_SALESFORCE_INSTANCE_URL and COSELL_SALESFORCE_ACCESS_TOKEN" in err
    assert not out_dir.exists()


def test_credentials_are_checked_and_never_shown() -> None:
    env = {"COSELL_SALESFORCE_INSTANCE_URL": "http://example.com", "COSELL_SALESFORCE_ACCESS_TOKEN": "s3cret"}
    with pytest.raises(UsageError) as caught:
        credentials_from("salesforce", env)
    assert "must be an https:// URL" in str(caught.value) and "s3cret" not in str(caught.value)
    creds = credentials_from("hubspot", {"COSELL_HUBSPOT_ACCESS_TOKEN": "s3cret"})
    assert creds.base_url == "https://api.hubapi.com" and "s3cret" not in repr(creds)


def test_writeback_api_through_the_command_line_reports_refused_deals(company: Path) -> None:
    ws = open_workspace(str(company / "cosell.duckdb"), create=False, read_only=True)
    try:
        ids = [
            o
            for (o,) in ws.con.execute(
                "SELECT DISTINCT opportunity_id FROM opportunities ORDER BY 1"
            ).fetchall()
        ]
    finally:
        ws.close()
    fake = FakeSalesforce(
        {i: {"Partner_Source__c": "none"} for i in ids}, reject={ids[1]: "Stage gate says no"}
    )
    with serve(fake, "https://example.my.salesforce.com") as base:
        env = {"COSELL_SALESFORCE_INSTANCE_URL": base, "COSELL_SALESFORCE_ACCESS_TOKEN": fake.token}
        code, out, err = cosell(
            "writeback", "salesforce", "--api", "-w", str(company / "cosell.duckdb"), env=env
        )
        assert code == 1, (out, err)
        assert f"Salesforce: {len(ids) - 1} updated, 0 unchanged, 1 failed" in out
        assert ids[1] in out and "FIELD_CUSTOM_VALIDATION_EXCEPTION: Stage gate says no" in out
        assert fake.token not in out + err
        del fake.reject[ids[1]]
        code, out, _ = cosell(
            "writeback", "salesforce", "--api", "-w", str(company / "cosell.duckdb"), env=env
        )
        assert code == 0 and f"1 updated, {len(ids) - 1} unchanged, 0 failed" in out
    assert all(d["Partner_Source__c"] == "none" for d in fake.deals.values())


def test_the_service_sends_through_an_injected_transport(company: Path) -> None:
    ws = open_workspace(str(company / "cosell.duckdb"), create=False, read_only=True)
    try:
        ids = [
            o
            for (o,) in ws.con.execute(
                "SELECT DISTINCT opportunity_id FROM opportunities ORDER BY 1"
            ).fetchall()
        ]
        fake = FakeSalesforce({i: {} for i in ids})
        env = {"COSELL_SALESFORCE_INSTANCE_URL": "https://example.my.salesforce.com",
               "COSELL_SALESFORCE_ACCESS_TOKEN": fake.token,
               "COSELL_EXPLAIN_URL": "https://cosell.example.com/d/{opportunity_id}"}  # fmt: skip
        source, result = writeback_through_api(
            ws, "salesforce", env=env, transport=fake, sleep=lambda s: None
        )
    finally:
        ws.close()
    assert source.deals == len(ids) and result.count("updated") == len(ids)
    assert fake.deals[ids[0]]["Cosell_Explanation__c"] == f"https://cosell.example.com/d/{ids[0]}"


def test_writeback_without_an_attribution_run_says_what_to_do(tmp_path: Path) -> None:
    open_workspace(str(tmp_path / "empty.duckdb")).close()
    code, _, err = cosell(
        "writeback", "hubspot", "--out", str(tmp_path / "o"), "-w", str(tmp_path / "empty.duckdb")
    )
    assert code == 1 and "no attribution run yet: run `cosell attribute`" in err
    assert not (tmp_path / "o" / "cosell-writeback-hubspot-deals.csv").exists()


@pytest.mark.parametrize("crm", ["salesforce", "hubspot"])
def test_a_refused_mapping_makes_no_workspace(tmp_path: Path, crm: str) -> None:
    """The mapping was read after the workspace was opened: a mapping refused (not TOML, a device)
    left a new empty cosell.duckdb behind a failed import. It is read first now."""
    export = tmp_path / "export"
    export.mkdir()
    bad = tmp_path / "m.toml"
    bad.write_text("x = [", encoding="utf-8")
    ws = tmp_path / "w.duckdb"
    result = CliRunner().invoke(app, ["import", crm, str(export), "--mapping", str(bad), "-w", str(ws)])
    assert result.exit_code == 1, result.output
    assert f"{bad}: not valid TOML" in result.output
    assert not ws.exists()
