"""`cosell demo` end to end at a small size: dataset, workspace, attribution, explanations,
reconciliation, pay (a paid period, the fixes, the next period's adjustments, a statement) and the
CFO and QBR files; the same size and seed give the same output and the same files."""

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
        "auto-tagged",
        "influence prompt(s)",
        "added users u-admin, u-ops, u-manager, u-finance, u-partner",
        "Reconciliation all: findings by kind",
        "of revenue at stake",
        "Payout run PR-000001 for 2026-09",
        "Reconciliation fixes accepted:",
        "Disputes decided: 1.",
        "Adjustments posted into 2026-10",
        "cosell payouts statement --partner",
        "cosell payouts statement --rep",
        "Clawbacks of paid earnings",
        "CFO dashboard, 2026-Q3",
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
    # The clawback of the disputed deal's rep commission is among the adjustments.
    assert "clawback" in first.output.split("Adjustments posted into 2026-10")[1]
    written = [
        "attribution.csv", "credits.csv",
        *(f"{key}-2026-Q3.{fmt}" for key in ("cfo", "qbr") for fmt in ("html", "pdf", "json")),
    ]  # fmt: skip
    for name in written:
        assert f"report:     {reports / name}" in first.output
    assert (reports / "cfo-2026-Q3.pdf").read_bytes().startswith(b"%PDF")
    assert "<svg" in (reports / "qbr-2026-Q3.html").read_text()
    for name in written:
        assert (reports / name).read_bytes() == (tmp_path / "two" / "reports" / name).read_bytes(), name
    assert first.output.replace(str(tmp_path / "one"), "DIR") == second.output.replace(
        str(tmp_path / "two"), "DIR"
    )
