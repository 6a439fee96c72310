"""``cosell simulate`` on the small company of tests/service/whatif_world.py and on the demo:
what it prints in each format, that it stores nothing, and how it refuses."""

from __future__ import annotations

import csv
import io
import json
import sys
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cosell.attribution.engine import attribute
from cosell.cells import write_csv
from cosell.cli.app import app
from cosell.cli.simulate_cmd import CSV_COLUMNS, csv_rows
from cosell.policy import Policy
from cosell.service.simulate import simulate
from cosell.store.attribution_store import save_run
from cosell.store.workspace import open_workspace

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "service"))
from whatif_world import T, small_world

NOW = "2026-07-01T00:00:00Z"
AS_OF = "2026-06-30T00:00:00Z"
PROPOSED = """label = "partner-team"

[windows]
sourcing_lookback_days = 30

[credit.role_weights]
influencer = 30
"""
EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "examples" / "proposed-policy.toml"


@pytest.fixture(scope="module")
def company(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The small company in a workspace file, with one stored attribution run."""
    folder = tmp_path_factory.mktemp("whatif")
    ws = small_world(folder / "cosell.duckdb")
    try:
        save_run(ws.con, attribute(ws.con, Policy(), T, known_at=T), "tester", run_at=T)
    finally:
        ws.close()
    (folder / "proposed.toml").write_text(PROPOSED, encoding="utf-8")
    return folder


def cosell(folder: Path, *args: str, columns: int = 80) -> tuple[int, str, str]:
    env = {"COSELL_NOW": NOW, "COLUMNS": str(columns), "COSELL_POLICY": None, "COSELL_WORKSPACE": None}
    done = CliRunner().invoke(
        app, ["simulate", "-w", str(folder / "cosell.duckdb"), "--as-of", AS_OF, *args], env=env
    )
    return done.exit_code, done.stdout, done.stderr


def snapshot(path: Path) -> tuple[bytes, dict[str, int], list[tuple[object, ...]]]:
    """The file's bytes, every table's row count, and the attribution versions."""
    data = path.read_bytes()
    ws = open_workspace(str(path), read_only=True)
    try:
        names = [r[0] for r in ws.con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_type = 'BASE TABLE' "
            "AND table_catalog = current_database() ORDER BY 1"
        ).fetchall()]  # fmt: skip
        counts = {n: int(ws.con.execute(f'SELECT count(*) FROM "{n}"').fetchall()[0][0]) for n in names}
        runs = ws.con.execute(
            "SELECT run_id, run_at, policy_version, counts FROM attribution_runs ORDER BY 1"
        ).fetchall()
        versions = ws.con.execute(
            "SELECT run_id, opportunity_id, tier, primary_partner_id FROM attribution_history ORDER BY 1, 2"
        ).fetchall()
    finally:
        ws.close()
    return data, counts, [*runs, *versions]


def test_it_prints_the_hand_computed_what_if_and_stores_nothing(company: Path) -> None:
    before = snapshot(company / "cosell.duckdb")
    assert before[1]["attribution_history_rows"] == 4 and before[1]["plan_versions"] == 1
    code, out, err = cosell(company, "--policy", str(company / "proposed.toml"), "--format", "json")
    assert code == 0, err
    assert snapshot(company / "cosell.duckdb") == before
    assert sorted(p.name for p in company.iterdir()) == ["cosell.duckdb", "proposed.toml"]  # no WAL either
    data = json.loads(out)
    assert (data["current_policy"]["version"], data["proposed_policy"]) == (
        Policy().version, {"version": data["proposed_policy"]["version"], "file": str(company / "proposed.toml")},
    )  # fmt: skip
    assert data["proposed_policy"]["version"].startswith("partner-team@")
    assert (data["as_of"], data["known_at"], data["period"]) == (AS_OF, NOW, None)
    assert [(d["opportunity_id"], d["money_moved"]) for d in data["deals"]] == [
        ("D1", "40000.00"), ("D4", "5500.00"), ("D2", "1442.31"),
    ]  # fmt: skip
    assert data["pipeline_moved"]["sourced"] == "-45500.00" and data["revenue_moved"]["none"] == "40000.00"
    assert [(p["partner_id"], p["change"]) for p in data["partner_pay"]] == [
        ("P1", "-4144.23"),
        ("P2", "72.12"),
    ]
    assert "Evaluated as of 2026-06-30T00:00:00Z (--as-of)" in err  # beside json: on stderr


def test_the_text_fits_80_columns_with_the_header_the_totals_and_the_deals(company: Path) -> None:
    code, out, _ = cosell(company, "--policy", str(company / "proposed.toml"))
    assert code == 0
    lines = out.splitlines()
    assert max(len(line) for line in lines) <= 80
    text = " ".join(out.split())
    assert f"Policy what-if: current policy {Policy().version} vs proposed policy partner-team@" in text
    assert "4 deals evaluated (all periods); 3 would change: tier 2, partner 2, credit 3." in text
    assert "sourced -45,500.00 -40,000.00" in text and "none +45,500.00 +40,000.00" in text
    assert "P1 Partner One 4,769.23 625.00 -4,144.23" in text
    assert "P2 Partner Two 115.38 187.50 +72.12" in text and "total 4,884.61 812.50 -4,072.11" in text
    assert "Rep commission on the changed deals: +2,000.00 USD over 1 rep" in text
    deals = {line.split()[0]: " ".join(line.split()) for line in lines if line[:2] in ("D1", "D2", "D4")}
    assert list(deals) == ["D1", "D4", "D2"]  # largest money moved first
    assert deals["D1"] == "D1 tier partner sourced → none 40,000.00 -4,000.00 P1 → (none)"  # "credit" wraps
    assert deals["D2"] == "D2 credit sourced 1,442.31 -72.11 P1"


def test_one_deal_is_counted_in_the_singular(company: Path) -> None:
    """May 2026 has one closed deal: "1 deal evaluated" (it said "1 deals"), beside April's two."""
    for period, count in (("2026-04", "2 deals"), ("2026-05", "1 deal")):
        code, out, _ = cosell(company, "--policy", str(company / "proposed.toml"), "-p", period)
        assert code == 0
        assert f"{count} evaluated (closing in {period})" in " ".join(out.split())


def test_a_period_out_file_and_csv(company: Path, tmp_path: Path) -> None:
    out_file = tmp_path / "what-if.csv"
    code, out, _ = cosell(
        company,
        "--policy",
        str(company / "proposed.toml"),
        "-p",
        "2026-Q2",
        "-f",
        "csv",
        "--out",
        str(out_file),
    )
    assert code == 0 and f"wrote {out_file}" in out
    rows = list(csv.DictReader(io.StringIO(out_file.read_text(encoding="utf-8"))))
    assert list(rows[0]) == list(CSV_COLUMNS)
    assert [(r["opportunity_id"], r["kinds"], r["money_moved"]) for r in rows] == [
        ("D1", "tier partner credit", "40000.00"), ("D2", "credit", "1442.31"),
    ]  # fmt: skip
    d2 = rows[1]
    assert d2["current_credits"] == "P1:sourcer:0.769231:7692.31 P2:influencer:0.230769:2307.69"
    assert (d2["partner_pay_change"], d2["partner_pay_changes"]) == ("-72.11", "P1:-144.23 P2:+72.12")
    assert (rows[0]["pipeline_moved_sourced"], rows[0]["period"]) == ("-40000.00", "2026-Q2")
    text_file = tmp_path / "what-if.txt"
    code, _, _ = cosell(
        company, "--policy", str(company / "proposed.toml"), "--out", str(text_file), columns=200
    )
    assert code == 0 and max(len(line) for line in text_file.read_text().splitlines()) <= 80


def test_a_deal_no_plan_prices_says_no_plan_not_zero(tmp_path: Path) -> None:
    """The same company with no plan loaded: the changed won deals are not priced. Their partner
    pay read "0.00" in the table and the csv, which a controller reads as "checked, no change";
    the table says "no plan" and the csv leaves the pay cells empty."""
    ws = small_world(tmp_path / "cosell.duckdb", plan=False)
    try:
        save_run(ws.con, attribute(ws.con, Policy(), T, known_at=T), "tester", run_at=T)
    finally:
        ws.close()
    (tmp_path / "proposed.toml").write_text(PROPOSED, encoding="utf-8")
    code, out, _ = cosell(tmp_path, "--policy", str(tmp_path / "proposed.toml"))
    assert code == 0
    lines = {line.split()[0]: " ".join(line.split()) for line in out.splitlines() if line[:2] in ("D1", "D2")}
    assert lines["D2"] == "D2 credit sourced 1,442.31 no plan P1"
    assert "no plan" in lines["D1"] and "0.00" not in lines["D1"].replace("40,000.00", "")
    code, out, _ = cosell(tmp_path, "--policy", str(tmp_path / "proposed.toml"), "-f", "csv")
    assert code == 0
    rows = {r["opportunity_id"]: r for r in csv.DictReader(io.StringIO(out))}
    pay = ("partner_pay_change", "partner_pay_changes", "rep_pay_change", "rep_pay_changes")
    assert [rows["D2"][k] for k in pay] == ["", "", "", ""]


def test_csv_escapes_text_that_starts_like_a_formula_and_keeps_numbers_numbers() -> None:
    ws = small_world()
    try:
        result = simulate(ws.con, Policy().with_values(windows__sourcing_lookback_days=30), as_of=T)
    finally:
        ws.close()
    first = result.whatif.changes[0]
    evil = replace(
        first, current=replace(first.current, row=replace(first.current.row, primary_partner_id="=cmd|x"))
    )
    tampered = replace(result, whatif=replace(result.whatif, changes=(evil,)))
    line = write_csv(csv_rows(tampered)).splitlines()[1]
    assert ",'=cmd|x," in line and ",40000.00,USD," in line and ",-40000.00," in line


def test_it_refuses_with_the_file_line_and_reason_and_the_exit_codes(company: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('label = "x"\n[windows]\nsourcing_lookback_days = = 30\n', encoding="utf-8")
    code, _, err = cosell(company, "--policy", str(bad))
    assert code == 1 and f"{bad}: policy key (file): not valid TOML" in err and "line 3" in err
    assert "Traceback" not in err
    bad.write_text("[windows]\nsourcing_lookback_dayz = 30\n", encoding="utf-8")
    code, _, err = cosell(company, "--policy", str(bad))
    assert (
        code == 1
        and "windows.sourcing_lookback_dayz: unknown key (did you mean windows.sourcing_lookback_days?)"
        in err
    )
    assert cosell(company)[0] == 2  # no --policy
    code, _, err = cosell(company, "--policy", str(company / "proposed.toml"), "--period", "Q9")
    assert code == 2 and "--period" in err
    euro = tmp_path / "euro.toml"
    euro.write_text('workspace_currency = "EUR"\n', encoding="utf-8")
    code, _, err = cosell(company, "--policy", str(euro))
    assert code == 2 and "money in two currencies does not compare" in err


def test_an_out_file_that_is_an_input_is_refused_and_left_as_it_was(company: Path, tmp_path: Path) -> None:
    """--out naming the workspace or a policy file (by another spelling, a hard link) would
    replace what the what-if reads with its report: a usage error, every input unchanged."""
    folder = tmp_path / "copy"
    folder.mkdir()
    for name in ("cosell.duckdb", "proposed.toml"):
        (folder / name).write_bytes((company / name).read_bytes())
    current = folder / "current.toml"
    current.write_text('label = "fy26"\n', encoding="utf-8")
    (folder / "link.duckdb").hardlink_to(folder / "cosell.duckdb")  # a symbolic link is refused as one
    before = {p.name: p.read_bytes() for p in (folder / "cosell.duckdb", folder / "proposed.toml", current)}
    # A workspace is refused as one whatever the command read (cosell.outfiles.refuse_database), or
    # as this command's own where the path does not open as it is written (a missing "sub/..").
    workspace = "a cosell workspace (a DuckDB database)"
    for out, what in [
        (folder / "cosell.duckdb", workspace),
        (folder / "sub" / ".." / "cosell.duckdb", "the workspace"),
        (folder / "link.duckdb", workspace),
        (folder / "proposed.toml", "the --policy file"),
        (current, "the --current-policy file"),
    ]:
        args = (
            "--policy",
            str(folder / "proposed.toml"),
            "--current-policy",
            str(current),
            "--out",
            str(out),
        )
        code, _, err = cosell(folder, *args)
        assert code == 2 and f"is {what}: give another file name" in err, (out, err)
        assert {
            p.name: p.read_bytes() for p in (folder / "cosell.duckdb", folder / "proposed.toml", current)
        } == before
    code, _, err = cosell(
        folder, "--policy", str(folder / "proposed.toml"), "--out", str(folder / "what-if.txt")
    )
    assert code == 0, err
    assert (folder / "what-if.txt").read_text(encoding="utf-8").startswith("Policy what-if:")


def test_a_current_policy_other_than_the_stored_runs_is_said(company: Path, tmp_path: Path) -> None:
    current = tmp_path / "current.toml"
    current.write_text('label = "fy27"\n', encoding="utf-8")
    code, out, _ = cosell(
        company, "--policy", str(company / "proposed.toml"), "--current-policy", str(current)
    )
    assert code == 0
    text = " ".join(out.split())
    assert (
        f"The newest stored run (run 1) was made with policy {Policy().version}, not with the current" in text
    )
    assert "current policy fy27@" in text


@pytest.mark.slow
def test_simulate_over_the_demo(small_demo: Path) -> None:
    before = snapshot(small_demo)
    env = {"COSELL_NOW": "2026-11-02T09:00:00Z", "COSELL_POLICY": None, "COSELL_WORKSPACE": None}
    done = CliRunner().invoke(
        app,
        ["simulate", "-w", str(small_demo), "--policy", str(EXAMPLE), "-f", "json"],
        env=env,
    )
    assert done.exit_code == 0, done.stderr
    assert snapshot(small_demo) == before
    data = json.loads(done.stdout)
    assert data["deals_evaluated"] == 200 and data["deals_changed"] == len(data["deals"]) > 0
    assert data["proposed_policy"]["version"].startswith("partner-team-proposal@")
    keys = [(-Decimal(d["money_moved"]), d["opportunity_id"]) for d in data["deals"]]
    assert keys == sorted(keys)
    assert sum(Decimal(v) for v in data["pipeline_moved"].values()) == 0  # only between tiers
    per_partner: dict[str, Decimal] = {}
    for d in data["deals"]:
        for partner, change in d["partner_pay_change"].items():
            per_partner[partner] = per_partner.get(partner, Decimal(0)) + Decimal(change)
    assert {p["partner_id"]: Decimal(p["change"]) for p in data["partner_pay"]} == {
        k: v for k, v in per_partner.items() if v
    }


def test_a_proposed_won_stage_in_another_case_is_noted(company: Path, tmp_path: Path) -> None:
    """A proposed `won = ["closed won"]` against the workspace's "Closed Won" leaves those deals
    open; the comparison lists them as changes of the policy, and the notes (text and json) say
    that the stage differs only by case, naming the policy and the key."""
    proposed = tmp_path / "cased.toml"
    proposed.write_text('[stages]\nwon = ["closed won"]\n', encoding="utf-8")
    said = 'The proposed policy\'s stages.won: "closed won" is not a stage in the workspace; "Closed Won" is'
    code, out, _ = cosell(company, "--policy", str(proposed))
    assert code == 0 and said in " ".join(out.split()), out
    code, out, _ = cosell(company, "--policy", str(proposed), "-f", "json")
    assert code == 0 and any(n.startswith(said) for n in json.loads(out)["notes"]), out
    code, out, _ = cosell(company, "--policy", str(company / "proposed.toml"), "-f", "json")
    assert code == 0 and not any("differs by case" in n for n in json.loads(out)["notes"]), out
