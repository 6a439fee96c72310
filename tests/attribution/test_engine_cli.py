"""``cosell attribute`` and ``cosell explain`` through the real typer app."""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from cosell.cli.app import app, main
from cosell.results import AttributionRow, CreditRow

sys.path.insert(0, str(Path(__file__).parent))
import golden

runner = CliRunner()
CASE = "three_partners"
AS_OF = golden.DEFAULT_AS_OF


@pytest.fixture(autouse=True)
def _fixed_time(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COSELL_NOW", "2026-10-01T00:00:00Z")
    monkeypatch.setenv("COSELL_USER", "tester")


def case_dir() -> Path:
    return golden.GOLDEN_DIR / CASE


def read(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as f:
        return list(csv.DictReader(f))


def test_data_out_writes_spec_columns_and_matches_the_golden_case(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = runner.invoke(app, ["attribute", "--data", str(case_dir()), "--out", str(out), "--as-of", AS_OF])
    assert result.exit_code == 0, result.output
    header = (out / "attribution.csv").read_text().splitlines()[0]
    assert header.split(",") == list(AttributionRow.columns())
    assert (out / "credits.csv").read_text().splitlines()[0].split(",") == list(CreditRow.columns())
    expected_rows, expected_credits = golden.expected(golden.load_case(CASE))
    got = read(out / "attribution.csv")
    assert [{c: r[c] for c in expected_rows[0]} for r in got] == expected_rows
    got_credits = read(out / "credits.csv")
    assert [{c: r[c] for c in expected_credits[0]} for r in got_credits] == expected_credits
    assert "sourced" in result.output


def test_data_out_is_byte_identical_for_the_same_input(tmp_path: Path) -> None:
    for name in ("a", "b"):
        result = runner.invoke(
            app, ["attribute", "--data", str(case_dir()), "--out", str(tmp_path / name), "--as-of", AS_OF]
        )
        assert result.exit_code == 0, result.output
    for file in ("attribution.csv", "credits.csv"):
        assert (tmp_path / "a" / file).read_bytes() == (tmp_path / "b" / file).read_bytes()


@pytest.mark.parametrize("fmt", ["json", "parquet"])
def test_other_formats(tmp_path: Path, fmt: str) -> None:
    out = tmp_path / fmt
    result = runner.invoke(
        app, ["attribute", "--data", str(case_dir()), "--out", str(out), "--as-of", AS_OF, "--format", fmt]
    )
    assert result.exit_code == 0, result.output
    if fmt == "json":
        rows = json.loads((out / "attribution.json").read_text())
        assert list(rows[0]) == list(AttributionRow.columns())
        credits = json.loads((out / "credits.json").read_text())
        assert list(credits[0]) == list(CreditRow.columns())
    else:
        assert pq.read_table(out / "attribution.parquet").column_names == list(AttributionRow.columns())
        assert pq.read_table(out / "credits.parquet").column_names == list(CreditRow.columns())


def test_model_option_changes_credit(tmp_path: Path) -> None:
    out = tmp_path / "even"
    result = runner.invoke(
        app, ["attribute", "--data", str(case_dir()), "--out", str(out), "--as-of", AS_OF, "--model", "even"]
    )
    assert result.exit_code == 0, result.output
    assert {r["model"] for r in read(out / "attribution.csv")} == {"even"}


def test_unknown_model_suggests_and_exits_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["cosell", "attribute", "--data", str(case_dir()), "--out", str(tmp_path / "x"), "--model", "evn"]
    monkeypatch.setattr(sys, "argv", argv)
    with pytest.raises(SystemExit) as exited:
        main()
    assert exited.value.code == 2
    assert "did you mean even?" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()


def test_data_without_out_and_bad_as_of_exit_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for args in (
        ["attribute", "--data", str(case_dir())],
        ["attribute", "--data", str(case_dir()), "--out", str(tmp_path / "o"), "--as-of", "yesterday"],
    ):
        monkeypatch.setattr(sys, "argv", ["cosell", *args])
        with pytest.raises(SystemExit) as exited:
            main()
        assert exited.value.code == 2
    assert runner.invoke(app, ["attribute", "--format", "xml"]).exit_code == 2


def _workspace(tmp_path: Path) -> str:
    ws = str(tmp_path / "ws.duckdb")
    result = runner.invoke(app, ["import", "canonical", str(case_dir()), "-w", ws])
    assert result.exit_code == 0, result.output
    return ws


def test_attribute_on_workspace_stores_runs_and_explain_reads_it(tmp_path: Path) -> None:
    ws = _workspace(tmp_path)
    first = runner.invoke(app, ["attribute", "-w", ws, "--as-of", AS_OF, "--reason", "month end"])
    assert first.exit_code == 0, first.output
    assert "run 1 stored" in first.output
    second = runner.invoke(app, ["attribute", "-w", ws, "--as-of", AS_OF, "--model", "even"])
    assert second.exit_code == 0, second.output
    assert "run 2 stored" in second.output

    from cosell.store.attribution_store import list_runs, run_rows
    from cosell.store.workspace import open_workspace

    opened = open_workspace(ws)
    try:
        runs = list_runs(opened.con)
        assert [(r.run_id, r.model, r.by_user, r.reason) for r in runs] == [
            (1, "role_weighted", "tester", "month end"),
            # No --reason: the run records what was run as its why, never an empty one.
            (2, "even", "tester", f"cosell attribute --as-of {AS_OF} --known-at {AS_OF} --model even"),
        ]
        rows1, credits1 = run_rows(opened.con, 1)
        rows2, _ = run_rows(opened.con, 2)
        assert {r.model for r in rows1} == {"role_weighted"}
        assert {r.model for r in rows2} == {"even"}
        assert credits1
    finally:
        opened.close()

    explained = runner.invoke(app, ["explain", "O1", "-w", ws, "--as-of", AS_OF])
    assert explained.exit_code == 0, explained.output
    as_json = runner.invoke(app, ["explain", "O1", "-w", ws, "--as-of", AS_OF, "--format", "json"])
    assert as_json.exit_code == 0, as_json.output
    assert json.loads(as_json.output)


def test_attribute_without_workspace_fails(tmp_path: Path) -> None:
    result = runner.invoke(app, ["attribute", "-w", str(tmp_path / "missing.duckdb")])
    assert result.exit_code == 1


def test_a_format_without_out_is_bad_usage(tmp_path: Path) -> None:
    """--format is the file format of --out: on a workspace it would be ignored unseen."""
    missing = str(tmp_path / "none.duckdb")
    done = runner.invoke(app, ["attribute", "-w", missing, "--format", "json"])
    assert done.exit_code == 2, done.output
    assert "--format is the file format of --out" in done.output
    assert not Path(missing).exists()
