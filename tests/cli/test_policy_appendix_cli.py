"""``cosell policy appendix``: markdown on stdout, html and pdf to a file, the policy given, dated
by --as-of or cosell's clock, clear errors."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cosell.attribution.appendix import build_appendix
from cosell.cli.app import app
from cosell.policy import Policy
from cosell.reports.appendix import render_markdown

runner = CliRunner()


def test_markdown_goes_to_stdout_dated_by_as_of() -> None:
    result = runner.invoke(app, ["policy", "appendix", "--as-of", "2026-11-01"], env={"COSELL_NOW": None})
    assert result.exit_code == 0, result.output
    assert result.output == render_markdown(build_appendix(Policy(), date(2026, 11, 1)))
    assert "2.3 Direct first: a claim is blocked" in result.output


def test_the_date_is_as_ofs_utc_date_else_today_on_cosells_clock() -> None:
    result = runner.invoke(app, ["policy", "appendix", "--as-of", "2027-03-15T23:30:00-05:00"])
    assert result.exit_code == 0, result.output
    assert "- Dated: 2027-03-16" in result.output  # the instant's UTC date
    pinned = runner.invoke(app, ["policy", "appendix"], env={"COSELL_NOW": "2027-04-01T00:00:00Z"})
    assert "- Dated: 2027-04-01" in pinned.output


@pytest.mark.parametrize("fmt", ["pdf", "html"])
def test_html_and_pdf_go_to_a_named_file(fmt: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["policy", "appendix", "--format", fmt, "--as-of", "2026-11-01"])
    assert result.exit_code == 0, result.output
    written = tmp_path / f"cosell-rules-default-2026-11-01.{fmt}"
    assert f"wrote {written.name}" in result.output and Policy().version in result.output
    assert written.read_bytes().startswith(b"%PDF" if fmt == "pdf" else b"<!DOCTYPE html>")


def test_the_policy_given_is_the_one_stated(tmp_path: Path) -> None:
    policy = tmp_path / "p.toml"
    policy.write_text('label = "fy27"\n[windows]\nsourcing_lookback_days = 90\n', encoding="utf-8")
    out = tmp_path / "rules.md"
    result = runner.invoke(
        app, ["policy", "appendix", "--policy", str(policy), "--out", str(out), "--as-of", "2026-11-01"]
    )
    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8")
    assert "lookback is the 90 days" in text and "lookback is the 180 days" not in text
    assert "policy version fy27@" in text


def test_bad_usage_and_a_bad_policy_are_clear_errors(tmp_path: Path) -> None:
    assert runner.invoke(app, ["policy", "appendix", "--format", "docx"]).exit_code == 2
    assert runner.invoke(app, ["policy", "appendix", "--as-of", "yesterday"]).exit_code == 2
    bad = tmp_path / "bad.toml"
    bad.write_text("[acceleration]\nmin_pct = 1.5\n", encoding="utf-8")
    result = runner.invoke(app, ["policy", "appendix", "--policy", str(bad)])
    assert result.exit_code == 1
    assert "acceleration.min_pct" in result.output and "Traceback" not in result.output


def test_the_appendix_is_never_written_over_its_policy_file(tmp_path: Path) -> None:
    policy = tmp_path / "p.toml"
    text = 'label = "fy27"\n[windows]\nsourcing_lookback_days = 90\n'
    policy.write_text(text, encoding="utf-8")
    for fmt, out in [("md", policy), ("html", tmp_path / "." / "p.toml")]:
        args = ["policy", "appendix", "--policy", str(policy), "--format", fmt, "--out", str(out)]
        result = runner.invoke(app, args)
        assert result.exit_code == 2, result.output
        assert "is the --policy file: give another file name" in result.output
        assert policy.read_text(encoding="utf-8") == text
