"""`cosell demo` end to end at a small size: dataset, workspace, attribution, reports, explanations."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from cosell.cli.app import app

runner = CliRunner()


def test_demo_builds_the_sample_company_reproducibly(tmp_path: Path) -> None:
    first = runner.invoke(app, ["demo", "--dir", str(tmp_path / "one"), "--size", "600"])
    assert first.exit_code == 0, first.output
    for expected in (
        "Pipeline created by tier",
        "Partner-sourced pipeline",
        "cosell explain",
        "Where everything is",
    ):
        assert expected in first.output
    for tier in ("sourced", "influenced", "none"):
        assert f"{tier} deal: cosell explain" in first.output
    reports = tmp_path / "one" / "reports"
    header = (reports / "attribution.csv").read_text().splitlines()[0]
    assert header.startswith("opportunity_id,tier,primary_partner_id,engagement_at,cycle_days,baseline_days")
    assert (tmp_path / "one" / "cosell.duckdb").exists()
    second = runner.invoke(app, ["demo", "--dir", str(tmp_path / "two"), "--size", "600"])
    assert second.exit_code == 0, second.output
    for name in ("attribution.csv", "credits.csv"):
        assert (reports / name).read_bytes() == (tmp_path / "two" / "reports" / name).read_bytes()
