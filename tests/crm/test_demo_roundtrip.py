"""The issue's "Done when": the same deals imported from canonical CSVs, from the demo's
Salesforce export and from its HubSpot export give identical attribution (every deal's tier,
partner, rules and credits)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cosell.asof import AsOf
from cosell.cli.app import app
from cosell.policy import Policy
from cosell.service.attribution import attribute_and_store
from cosell.service.crm_import import import_crm
from cosell.service.imports import import_folder
from cosell.service.workspace import open_workspace

runner = CliRunner()
NOW = "2026-11-02T00:00:00Z"


@pytest.fixture(autouse=True)
def _fixed_time(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COSELL_NOW", NOW)
    monkeypatch.setenv("COSELL_USER", "tester")


def _attribute(ws_path: Path, out: Path, load: object) -> tuple[str, str]:
    ws = open_workspace(str(ws_path))
    try:
        load(ws)  # type: ignore[operator]
        at = AsOf.resolve(known_at=datetime(2026, 11, 2, tzinfo=UTC))
        attribute_and_store(
            ws, Policy(), at, "role_weighted", by_user="tester", reason="test", results_to=out
        )
    finally:
        ws.close()
    return (out / "attribution.csv").read_text(encoding="utf-8"), (out / "credits.csv").read_text(
        encoding="utf-8"
    )


@pytest.fixture(scope="module")
def canonical_attribution(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    tmp = tmp_path_factory.mktemp("canonical")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("COSELL_NOW", NOW)
        mp.setenv("COSELL_USER", "tester")
        assert runner.invoke(app, ["demo", "--out", str(tmp / "data"), "--size", "200"]).exit_code == 0
        return _attribute(tmp / "a.duckdb", tmp / "a", lambda ws: import_folder(ws, tmp / "data", Policy()))


@pytest.mark.parametrize(("crm", "marker"), [("salesforce", "Opportunity.csv"), ("hubspot", "deals.csv")])
def test_canonical_and_crm_imports_of_the_demo_attribute_identically(
    tmp_path: Path, canonical_attribution: tuple[str, str], crm: str, marker: str
) -> None:
    export = tmp_path / crm
    written = runner.invoke(app, ["demo", "--out", str(export), "--size", "200", "--crm", crm])
    assert written.exit_code == 0, written.output
    assert not (export / "opportunities.csv").exists() and (export / marker).exists()
    mapping = export / f"{crm}-mapping.toml"
    got = _attribute(
        tmp_path / "b.duckdb",
        tmp_path / "b",
        lambda ws: import_crm(ws, crm, export, Policy(), mapping_path=mapping),
    )
    attribution, credits = got
    assert attribution.count("\n") == 201  # a header and every deal
    assert "sourced" in attribution and "accelerated" in attribution and "influenced" in attribution
    assert credits.count("\n") > 10
    assert got == canonical_attribution


@pytest.mark.parametrize("crm", ["salesforce", "hubspot"])
def test_the_export_imported_over_its_canonical_files_changes_no_row(tmp_path: Path, crm: str) -> None:
    canonical, export = tmp_path / "canonical", tmp_path / crm
    assert runner.invoke(app, ["demo", "--out", str(canonical), "--size", "120"]).exit_code == 0
    assert runner.invoke(app, ["demo", "--out", str(export), "--size", "120", "--crm", crm]).exit_code == 0
    ws = open_workspace(str(tmp_path / "ws.duckdb"))
    try:
        import_folder(ws, canonical, Policy())
        again = import_crm(ws, crm, export, Policy(), mapping_path=export / f"{crm}-mapping.toml")
    finally:
        ws.close()
    changed = {t.table: (t.inserted, t.updated) for t in again.report.tables if t.inserted or t.updated}
    assert changed == {}
    read = {t.table: t.read for t in again.report.tables}
    assert read["opportunities"] == 120 and read["touches"] > 1000 and read["stage_history"] > 120
