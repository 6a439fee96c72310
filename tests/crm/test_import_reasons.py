"""``cosell import salesforce|hubspot --reason``: a CRM import records why, the reason given, else
the command that was run (SPEC section 9: every write records who, when and why), whichever way the
export is imported (a Salesforce export's first import translated by the engine, a later one by the
reference translation)."""

from __future__ import annotations

import json
from pathlib import Path

from crm_fixtures import mapping as salesforce_mapping
from crm_fixtures import write_org
from hubspot_fixtures import mapping as hubspot_mapping
from hubspot_fixtures import write_portal
from typer.testing import CliRunner

from cosell.cli.app import app
from cosell.store.workspace import open_workspace

ENV = {"COSELL_NOW": "2026-05-01T00:00:00Z", "COSELL_USER": "tester", "COLUMNS": "80"}


def _import(crm: str, export: Path, mapping: Path, workspace: Path, *why: str) -> dict[str, object]:
    done = CliRunner().invoke(
        app, ["import", crm, str(export), "--mapping", str(mapping), "-w", str(workspace), "-f", "json", *why],
        env=ENV,
    )  # fmt: skip
    assert done.exit_code == 0, done.output
    report: dict[str, object] = json.loads(done.output)
    return report


def _logged(workspace: Path) -> list[tuple[object, ...]]:
    ws = open_workspace(workspace)
    try:
        return ws.con.execute("SELECT by_user, source, reason FROM imports ORDER BY import_id").fetchall()
    finally:
        ws.close()


def test_a_salesforce_import_records_the_reason_given_else_the_command(tmp_path: Path) -> None:
    export = write_org(tmp_path / "sf", "loader")
    (tmp_path / "m.toml").write_text(salesforce_mapping("loader"), encoding="utf-8")
    workspace = tmp_path / "w.duckdb"
    ran = f"cosell import salesforce {export.resolve()}"
    first = _import("salesforce", export, tmp_path / "m.toml", workspace)  # into an empty workspace
    assert first["reason"] == ran
    again = _import("salesforce", export, tmp_path / "m.toml", workspace, "--reason", " weekly export ")
    assert again["reason"] == "weekly export"
    blank = _import("salesforce", export, tmp_path / "m.toml", workspace, "--reason", "  ")
    assert blank["reason"] == ran
    source = f"salesforce {export.resolve()}"
    assert _logged(workspace) == [
        ("tester", source, ran),
        ("tester", source, "weekly export"),
        ("tester", source, ran),
    ]


def test_a_hubspot_import_records_the_reason_given_else_the_command(tmp_path: Path) -> None:
    export = write_portal(tmp_path / "hs")
    (tmp_path / "m.toml").write_text(hubspot_mapping(), encoding="utf-8")
    workspace = tmp_path / "w.duckdb"
    _import("hubspot", export, tmp_path / "m.toml", workspace)
    _import("hubspot", export, tmp_path / "m.toml", workspace, "--reason", "portal cut-over")
    source = f"hubspot {export.resolve()}"
    assert _logged(workspace) == [
        ("tester", source, f"cosell import hubspot {export.resolve()}"),
        ("tester", source, "portal cut-over"),
    ]
