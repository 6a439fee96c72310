"""``cosell report cfo|qbr|partners`` through the real typer app, and the render dispatcher."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from typer.testing import CliRunner

from cosell.cli.app import app
from cosell.errors import UsageError
from cosell.reports.render import FORMATS, render
from cosell.store.workspace import open_workspace
from metrics.metrics_support import AS_OF, Deal, attribute, quarter_book, revise

from .test_formats import SAMPLE

runner = CliRunner()
AS_OF_TEXT = "2026-11-01T00:00:00Z"


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("COSELL_NOW", "2026-11-20T00:00:00Z")
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "cosell.duckdb"
    ws = quarter_book().save(open_workspace(path))
    ws.close()
    return path


def invoke(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


def test_dispatcher_formats_and_a_helpful_miss() -> None:
    assert FORMATS == ("table", "json", "csv", "xlsx", "html", "pdf")
    with pytest.raises(UsageError, match=r"unknown report format 'jsn' \(did you mean json\?\)"):
        render(SAMPLE, "jsn")


def test_table_by_default(workspace: Path) -> None:
    code, out = invoke("report", "cfo", "-w", str(workspace), "--known-at", AS_OF_TEXT)
    assert code == 0, out
    assert "The four numbers, 2026-Q3" in out and "16,000.00 USD" in out and "56.6%" in out


def test_json_to_stdout_and_csv_to_a_file(workspace: Path, tmp_path: Path) -> None:
    code, out = invoke("report", "qbr", "--quarter", "2026-Q3", "-w", str(workspace), "--known-at", AS_OF_TEXT,
                       "--format", "json")  # fmt: skip
    assert code == 0, out
    data = json.loads(out)
    assert data["report"] == "qbr"
    assert data["sections"]["investment"]["figures"]["added_program_spend"]["value"] == "420.00"
    target = tmp_path / "out" / "partners.csv"
    code, out = invoke("report", "partners", "-w", str(workspace), "-f", "csv", "--out", str(target))
    assert code == 0, out
    assert target.read_text().startswith("section,field,value\n")
    assert f"wrote {target}" in out


def test_files_without_out_go_to_a_default_path(workspace: Path, tmp_path: Path) -> None:
    code, out = invoke("report", "cfo", "-w", str(workspace), "--known-at", AS_OF_TEXT, "-f", "xlsx")
    assert code == 0, out
    path = tmp_path / "cosell-cfo-2026-Q3.xlsx"
    assert "wrote cosell-cfo-2026-Q3.xlsx" in out
    sheets = openpyxl.load_workbook(path).sheetnames
    assert sheets == ["report", "headline", "trend", "pipeline", "revenue", "cycle"]


def test_the_default_period_follows_now_without_as_of(workspace: Path) -> None:
    # COSELL_NOW is 2026-11-20: the last complete quarter is 2026-Q3, and every version is read.
    code, out = invoke("report", "cfo", "-w", str(workspace), "-f", "json")
    assert code == 0, out
    facts = {f["label"]: f["value"] for f in json.loads(out)["facts"]}
    assert facts["Period"].startswith("2026-Q3") and facts["As of"] == "2026-11-20 00:00:00 UTC (now)"
    assert facts["Data known at"] == "everything recorded so far"


def test_same_known_at_same_bytes_after_later_changes(workspace: Path, tmp_path: Path) -> None:
    def run(name: str, fmt: str) -> bytes:
        target = tmp_path / name
        code, out = invoke(
            "report", "cfo", "-w", str(workspace), "--known-at", AS_OF_TEXT, "-f", fmt, "-o", str(target)
        )
        assert code == 0, out
        return target.read_bytes()

    first = {fmt: run(f"a.{fmt}", fmt) for fmt in ("json", "xlsx")}
    ws = open_workspace(workspace)
    later = AS_OF + timedelta(days=5)
    attribute(ws, [Deal("S2", "2026-08-10", "5000.00", tier="none", currency="EUR")], run_at=later)
    revise(ws, "opportunities", {"opportunity_id": "N1"}, {"amount": Decimal("1.00")}, later)
    ws.close()
    assert {fmt: run(f"b.{fmt}", fmt) for fmt in ("json", "xlsx")} == first
    _, out = invoke("report", "cfo", "-w", str(workspace), "-f", "json")
    assert json.loads(out)["sections"]["headline"]["figures"]["sourced_pipeline"]["value"] == "10000.00"


def test_bad_usage_and_missing_attribution(workspace: Path, tmp_path: Path) -> None:
    code, out = invoke("report", "qbr", "-w", str(workspace), "--quarter", "2026-08")
    assert code == 2 and "is a month" in out
    code, out = invoke("report", "cfo", "-w", str(workspace), "--as-of", "yesterday")
    assert code == 2 and "--as-of" in out
    code, out = invoke("report", "cfo", "-w", str(workspace), "--format", "docx")
    assert code == 2
    empty = tmp_path / "empty.duckdb"
    open_workspace(empty).close()
    code, out = invoke("report", "cfo", "-w", str(empty))
    assert code == 1 and "run `cosell attribute` first" in out
    code, out = invoke("report", "--help")
    assert code == 0 and "cfo" in out and "qbr" in out and "partners" in out
