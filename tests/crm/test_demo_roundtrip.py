"""The issue's "Done when": the same deals imported from canonical CSVs and from the demo's
Salesforce export give identical attribution (every deal's tier, partner, rules and credits)."""

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


def test_canonical_and_salesforce_imports_of_the_demo_attribute_identically(tmp_path: Path) -> None:
    canonical, export = tmp_path / "canonical", tmp_path / "salesforce"
    assert runner.invoke(app, ["demo", "--out", str(canonical), "--size", "200"]).exit_code == 0
    written = runner.invoke(app, ["demo", "--out", str(export), "--size", "200", "--crm", "salesforce"])
    assert written.exit_code == 0, written.output
    assert not (export / "opportunities.csv").exists() and (export / "Opportunity.csv").exists()
    policy = Policy()
    expected = _attribute(
        tmp_path / "a.duckdb", tmp_path / "a", lambda ws: import_folder(ws, canonical, policy)
    )
    got = _attribute(
        tmp_path / "b.duckdb",
        tmp_path / "b",
        lambda ws: import_crm(
            ws, "salesforce", export, policy, mapping_path=export / "salesforce-mapping.toml"
        ),
    )
    attribution, credits = got
    assert attribution.count("\n") == 201  # a header and every deal
    assert "sourced" in attribution and "accelerated" in attribution and "influenced" in attribution
    assert credits.count("\n") > 10
    assert got == expected
