"""``cosell import canonical`` through the real typer app."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest
from import_fixtures import base_tables, dataset
from typer.testing import CliRunner

from cosell.cli.app import app, main

runner = CliRunner()


@pytest.fixture(autouse=True)
def _fixed_time(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COSELL_NOW", "2026-05-01T00:00:00Z")
    monkeypatch.setenv("COSELL_USER", "tester")


def test_import_prints_counts(tmp_path: Path) -> None:
    folder = dataset(tmp_path / "in")
    ws = str(tmp_path / "ws.duckdb")
    result = runner.invoke(app, ["import", "canonical", str(folder), "--workspace", ws])
    assert result.exit_code == 0, result.output
    assert "import 1" in result.output
    assert "accepted 16 rows, rejected 0" in result.output


def test_counts_have_thousands_separators(tmp_path: Path) -> None:
    made = runner.invoke(app, ["demo", "--out", str(tmp_path / "in"), "--size", "60"])
    assert made.exit_code == 0, made.output
    ws = str(tmp_path / "ws.duckdb")
    result = runner.invoke(app, ["import", "canonical", str(tmp_path / "in"), "--workspace", ws])
    assert result.exit_code == 0, result.output
    assert re.search(r"accepted \d{1,3}(,\d{3})+ rows, rejected 0", result.output), result.output


def test_json_and_csv_formats(tmp_path: Path) -> None:
    folder = dataset(tmp_path / "in")
    ws = str(tmp_path / "ws.duckdb")
    result = runner.invoke(app, ["import", "canonical", str(folder), "-w", ws, "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["imported_at"] == "2026-05-01T00:00:00Z"
    assert data["tables"][0] == {
        "table": "accounts", "file": "accounts.csv", "read": 2, "inserted": 2, "updated": 0,
        "unchanged": 0, "rejected": 0, "replaced": 0,
    }  # fmt: skip
    result = runner.invoke(app, ["import", "canonical", str(folder), "-w", ws, "--format", "csv"])
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert lines[0] == "table,file,read,inserted,updated,unchanged,rejected,replaced"
    assert lines[1] == "accounts,accounts.csv,2,0,0,2,0,0"


def test_warnings_are_printed(tmp_path: Path) -> None:
    touches = [dict(r) for r in base_tables()["touches"]]
    touches[0]["kind"] = "smoke_signal"
    folder = dataset(tmp_path / "in", touches=touches)
    result = runner.invoke(app, ["import", "canonical", str(folder), "-w", ":memory:"])
    assert result.exit_code == 0, result.output
    assert (
        'touches.csv row 2, kind: "smoke_signal" is an unknown touch kind: the rules ignore it'
        in result.output
    )


def test_attribute_data_warns_of_unknown_touch_kinds_as_the_import_does(tmp_path: Path) -> None:
    """`attribute --data` imports without collecting warnings (its speed): the touches of a kind the
    policy does not name were ignored by the rules without a word. It names each kind with its rows,
    on stderr, in the import's words."""
    touches = [dict(r) for r in base_tables()["touches"]]
    touches[0]["kind"] = "smoke_signal"
    folder = dataset(tmp_path / "in", touches=touches)
    imported = runner.invoke(app, ["import", "canonical", str(folder), "-w", ":memory:"])
    reason = '"smoke_signal" is an unknown touch kind: the rules ignore it'
    assert f"touches.csv row 2, kind: {reason}" in imported.output
    done = runner.invoke(app, ["attribute", "--data", str(folder), "--out", str(tmp_path / "out")])
    assert done.exit_code == 0, done.output
    assert "warning:" not in done.stdout
    assert done.stderr.splitlines().count(f"warning: touches.csv 1 row, kind: {reason}") == 1
    assert done.stderr.count("warning:") == 1  # the policy's own kinds are not named


def test_a_rate_of_the_workspace_currency_is_a_warning(tmp_path: Path) -> None:
    """The workspace currency's rate is always 1: a row giving it another is accepted, never read,
    and said so (a wrong FX file should not pass unnoticed)."""
    rates = [
        {"currency": "EUR", "period": "2026-04", "rate": "1.1"},
        {"currency": "USD", "period": "2026-04", "rate": "2"},
    ]
    folder = dataset(tmp_path / "in", fx_rates=rates)
    result = runner.invoke(app, ["import", "canonical", str(folder), "-w", ":memory:"])
    assert result.exit_code == 0, result.output
    said = 'fx_rates.csv row 3, currency: "USD" is the workspace currency: its rate is always 1, so this row is not read'
    assert said in " ".join(result.output.split()), result.output
    assert "EUR" not in result.output


def test_failed_import_exits_1_and_lists_problems_on_stderr(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    opportunities = [dict(r) for r in base_tables()["opportunities"]]
    opportunities[1]["amount"] = "12,5OO"
    folder = dataset(tmp_path / "in", opportunities=opportunities)
    result = runner.invoke(app, ["import", "canonical", str(folder), "-w", ":memory:"])
    assert result.exit_code == 1
    monkeypatch.setattr(sys, "argv", ["cosell", "import", "canonical", str(folder), "-w", ":memory:"])
    with pytest.raises(SystemExit) as exited:
        main()
    assert exited.value.code == 1
    err = capsys.readouterr().err
    assert 'opportunities.csv row 3, amount: "12,5OO" is not a number' in err
    assert "nothing from this import was applied" in err


def test_rejects_option(tmp_path: Path) -> None:
    opportunities = [dict(r) for r in base_tables()["opportunities"]]
    opportunities[1]["amount"] = "12,5OO"
    folder = dataset(tmp_path / "in", opportunities=opportunities)
    rejects = tmp_path / "rejects.csv"
    result = runner.invoke(
        app, ["import", "canonical", str(folder), "-w", ":memory:", "--rejects", str(rejects)]
    )
    assert result.exit_code == 0, result.output
    assert f"accepted 15 rows, rejected 1; rejected rows written to {rejects}" in " ".join(
        result.output.split()
    )
    assert rejects.read_text().count("\n") == 2


@pytest.mark.parametrize("name", ["opportunities.csv", "./accounts.csv", "policy.toml"])
def test_rejects_into_an_input_is_refused_and_the_input_kept(tmp_path: Path, name: str) -> None:
    """``--rejects in/opportunities.csv`` replaced the CRM export the rows were read from with the
    rejected rows (exit 0): an input of the import (a table file, the --policy file) is refused
    first, bad usage naming the option and what the file is, and nothing is imported."""
    opportunities = [dict(r) for r in base_tables()["opportunities"]]
    opportunities[1]["amount"] = "12,5OO"
    folder = dataset(tmp_path / "in", opportunities=opportunities)
    policy = folder / "policy.toml"
    policy.write_text('label = "ours"\n', encoding="utf-8")
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    ws = tmp_path / "ws.duckdb"
    result = runner.invoke(
        app,
        [
            "import",
            "canonical",
            str(folder),
            "-w",
            str(ws),
            "--policy",
            str(policy),
            "--rejects",
            f"{folder}/{name}",
        ],
    )
    assert result.exit_code == 2, result.output
    said = " ".join(result.output.split())
    assert f"--rejects {folder / name}" in said and "give another file name" in said
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before
    assert not ws.exists()


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    result = runner.invoke(app, ["import", "canonical", str(tmp_path / "nope")])
    assert result.exit_code == 2
    result = runner.invoke(app, ["import", "canonical", str(tmp_path), "--format", "xml"])
    assert result.exit_code == 2
    assert runner.invoke(app, ["import", "canonical", "--help"]).exit_code == 0


@pytest.mark.parametrize("name", ["leads.csv", "field_history.csv.gz", "fx_rates.parquet"])
def test_rejects_named_like_a_table_of_the_folder_is_refused(tmp_path: Path, name: str) -> None:
    """``--rejects in/leads.csv`` (a table the folder does not have) wrote the rejected rows where
    the folder's next import read them as its leads, and failed on them ("leads.csv, lead_id:
    required column is missing"): it is refused before anything is imported, saying why."""
    opportunities = [dict(r) for r in base_tables()["opportunities"]]
    opportunities[1]["amount"] = "12,5OO"
    folder = dataset(tmp_path / "in", opportunities=opportunities)
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    ws = tmp_path / "ws.duckdb"
    result = runner.invoke(
        app, ["import", "canonical", str(folder), "-w", str(ws), "--rejects", str(folder / name)]
    )
    assert result.exit_code == 2, result.output
    table = name.split(".")[0]
    said = " ".join(result.output.split())
    assert f"is named like the {table} table of {folder}" in said and "give another file name" in said
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before
    assert not ws.exists()
    elsewhere = runner.invoke(
        app, ["import", "canonical", str(folder), "-w", str(ws), "--rejects", str(tmp_path / name)]
    )
    assert elsewhere.exit_code == 0, elsewhere.output


@pytest.mark.parametrize(
    ("accepted", "tagged", "prompted", "more", "said"),
    [
        (1, 1, 1, 1, ("accepted 1 row,", "auto-tagged 1 deal created", "issued 1 influence prompt\n",
                      "... and 1 more warning row\n")),
        (1_202, 2, 1_000, 3, ("accepted 1,202 rows,", "auto-tagged 2 deals created",
                              "issued 1,000 influence prompts\n", "... and 3 more warning rows\n")),
    ],
)  # fmt: skip
def test_import_counts_read_as_written(
    monkeypatch: pytest.MonkeyPatch,
    accepted: int,
    tagged: int,
    prompted: int,
    more: int,
    said: tuple[str, ...],
) -> None:
    """One row, one deal, one prompt in the singular, others in the plural: words a controller
    forwards, never "row(s)" (cosell.report_model.counted)."""
    import io
    from datetime import UTC, datetime

    from cosell.cli import import_common
    from cosell.cli.common import Format, TextConsole
    from cosell.data.import_report import ImportReport, TableCounts
    from cosell.hygiene.intake import Intake

    out = io.StringIO()
    monkeypatch.setattr(import_common, "console", TextConsole(file=out, width=80))
    counts = TableCounts("deals", "deals.csv", accepted, accepted, 0, 0, 0)
    report = ImportReport(1, datetime(2026, 5, 1, tzinfo=UTC), "in", (counts,), (), more)
    import_common.render_report(report, Format.table)
    import_common.print_intake(report, Intake(tagged, prompted), import_common.console)
    text = out.getvalue()
    assert all(s in text for s in said) and "(s)" not in text, text
