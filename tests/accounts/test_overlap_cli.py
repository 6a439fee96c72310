"""``cosell accounts match`` on a small dataset whose every outcome was computed by hand
(tests/accounts/overlap_world.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from overlap_world import write
from typer.testing import CliRunner

from cosell.cli.app import app

runner = CliRunner()


@pytest.fixture
def ws(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("COSELL_NOW", "2026-06-01T00:00:00Z")
    path = str(tmp_path / "ws.duckdb")
    done = runner.invoke(app, ["import", "canonical", str(write(tmp_path / "data")), "-w", path])
    assert done.exit_code == 0, done.output
    return path


def _json(ws: str) -> dict:
    done = runner.invoke(app, ["accounts", "match", "-w", ws, "--format", "json"])
    assert done.exit_code == 0, done.output
    return json.loads(done.stdout)


def test_each_method_review_and_unmatched(ws: str) -> None:
    report = _json(ws)
    got = {
        (m["partner_id"], m["partner_name"]): (m["account_id"], m["method"], m["score"])
        for m in report["matches"]
    }
    assert got == {
        ("P1", "ACME LOGISTICS INC"): ("A1", "domain", 100.0),
        ("P1", "Umbrella"): ("A4", "domain", 100.0),
        ("P1", "The Globex Corporation"): ("A2", "name", 100.0),
        ("P2", "Initech Sofware"): ("A3", "fuzzy_name", 96.8),
    }
    assert [(r["partner_name"], r["account_id"], r["score"], r["reason"]) for r in report["review"]] == [
        ("Umbrella Health Group", "A4", 83.3, "words_differ")
    ]
    assert (report["partner_rows"], report["unmatched"], report["overlap_accounts"]) == (6, 1, 4)
    assert report["by_method"] == {"domain": 2, "name": 1, "fuzzy_name": 1}


def test_the_matrix_and_the_open_deals_at_their_customers(ws: str) -> None:
    report = _json(ws)
    cells = {(c["ours"], c["theirs"]): c["pairs"] for c in report["matrix"] if c["pairs"]}
    # A1 has a won deal (customer) and P1 lists it as customer; A2 only an open deal; A3 won, P2
    # prospect; A4 no deal at all (prospect), P1 prospect.
    assert cells == {
        ("customer", "customer"): 1,
        ("open_opportunity", "customer"): 1,
        ("customer", "prospect"): 1,
        ("prospect", "prospect"): 1,
    }
    assert [
        (d["opportunity_id"], d["partner_id"], d["amount"], d["currency"])
        for d in report["open_at_customers"]
    ] == [
        ("O2", "P1", "2500.00", "USD"),
        ("O3", "P1", "500.00", "EUR"),
    ]


def test_won_deals_with_partner_touches_and_no_attribution_need_a_run(ws: str) -> None:
    report = _json(ws)
    assert (report["attribution_run_id"], report["unattributed_wins"]) == (None, [])
    table = runner.invoke(app, ["accounts", "match", "-w", ws], env={"COLUMNS": "80"})
    assert "No attribution run yet" in table.stdout

    assert runner.invoke(app, ["attribute", "-w", ws, "--reason", "test"]).exit_code == 0
    report = _json(ws)
    assert report["attribution_run_id"] == 1
    # O1 is influenced (T2), so only O4 (tier none) is listed, with T3 (P1, by its contact) and T1
    # (P2) in time order; T4 is not engagement, T5 came after the close.
    [win] = report["unattributed_wins"]
    assert (win["opportunity_id"], win["touch_partners"], win["touches"], win["amount"]) == (
        "O4", ["P1", "P2"], 2, "700.00")  # fmt: skip
    assert win["evidence"] == (
        "overlap:P2/prospect touch:T3/P1@2024-12-01T00:00:00Z touch:T1/P2@2025-01-01T00:00:00Z"
    )
    assert win["closed_at"] == "2026-03-15T00:00:00Z"


def test_the_table_fits_80_columns_and_csv_lists(ws: str) -> None:
    table = runner.invoke(app, ["accounts", "match", "-w", ws], env={"COLUMNS": "80"})
    assert table.exit_code == 0, table.output
    assert max(len(line) for line in table.stdout.splitlines()) <= 80
    text = " ".join(table.stdout.split())
    # The methods and our statuses in words, as the matrix's column headers are: no snake_case ids.
    assert (
        "6 partner account rows: 4 matched to 4 of our accounts (domain 2, normalised name 1, fuzzy name 1)"
        in text
    )
    assert "open_opportunity" not in table.stdout
    assert any(line.split()[:3] == ["open", "opportunity", "1"] for line in table.stdout.splitlines())
    csv_out = runner.invoke(app, ["accounts", "match", "-w", ws, "--format", "csv", "--list", "open"])
    assert csv_out.stdout.splitlines()[0].startswith("opportunity_id,account_id,account_name,partner_id")
    assert len(csv_out.stdout.splitlines()) == 3


def test_nothing_known_at_an_earlier_instant(ws: str) -> None:
    done = runner.invoke(app, ["accounts", "match", "-w", ws, "--known-at", "2026-01-01"])
    assert done.exit_code == 1
    assert "nothing was known at 2026-01-01T00:00:00Z" in done.output


def test_bad_thresholds_are_bad_usage(ws: str) -> None:
    done = runner.invoke(app, ["accounts", "match", "-w", ws, "--threshold", "60", "--floor", "70"])
    assert done.exit_code == 2
    assert "--floor" in done.output


@pytest.mark.parametrize(
    "fmt", [[], ["--format", "table"], ["--format", "json"]], ids=["default", "table", "json"]
)
def test_a_list_without_csv_is_bad_usage_before_any_work(fmt: list[str], tmp_path: Path) -> None:
    """--list chooses the list --format csv writes: with any other format it would be ignored unseen.
    Said before the work: the workspace named does not even exist."""
    missing = str(tmp_path / "none.duckdb")
    done = runner.invoke(app, ["accounts", "match", "-w", missing, "--list", "review", *fmt])
    assert done.exit_code == 2, done.output
    assert "--list needs --format csv" in done.output
    assert not Path(missing).exists()


def test_csv_without_a_list_writes_the_matches(ws: str) -> None:
    done = runner.invoke(app, ["accounts", "match", "-w", ws, "--format", "csv"])
    assert done.exit_code == 0, done.output
    assert done.stdout.splitlines()[0].startswith("partner_id,partner_name,partner_domain,status,account_id")


def test_a_threshold_below_the_default_floor_alone_lowers_the_floor_with_it(ws: str) -> None:
    done = runner.invoke(app, ["accounts", "match", "-w", ws, "--threshold", "60", "--format", "json"])
    assert done.exit_code == 0, done.output
    report = json.loads(done.stdout)
    assert (report["threshold"], report["floor"]) == (60.0, 60.0)


def test_without_partner_lists_it_says_what_to_import(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from overlap_world import TABLES

    monkeypatch.setenv("COSELL_NOW", "2026-06-01T00:00:00Z")
    tables = {k: v for k, v in TABLES.items() if k != "partner_accounts"}
    path = str(tmp_path / "ws.duckdb")
    assert (
        runner.invoke(app, ["import", "canonical", str(write(tmp_path / "d", tables)), "-w", path]).exit_code
        == 0
    )
    done = runner.invoke(app, ["accounts", "match", "-w", path])
    assert done.exit_code == 0, done.output
    assert "No partner account lists: import partner_accounts.csv" in " ".join(done.stdout.split())
    assert _json(path)["partner_rows"] == 0


def test_a_partner_touch_of_a_direct_kind_is_partner_engagement(tmp_path: Path) -> None:
    # SPEC section 1: a partner touch with a kind of the direct list is engagement of its actor's
    # side (the import warns "counted as partner engagement", and the rules and reconciliation
    # count it); the unattributed-wins list read only the partner list, so P1's outbound_call on A3
    # was left out of O4's touches (found by fuzzing accounts match with touch kinds).
    from overlap_world import TABLES

    tables = {**TABLES, "touches": [*TABLES["touches"], {
        "touch_id": "T6", "occurred_at": "2025-03-01", "account_id": "A3", "actor": "partner",
        "kind": "outbound_call", "partner_id": "P1"}]}  # fmt: skip
    path = str(tmp_path / "ws.duckdb")
    env = {"COSELL_NOW": "2026-06-01T00:00:00Z"}
    done = runner.invoke(
        app, ["import", "canonical", str(write(tmp_path / "data", tables)), "-w", path], env=env
    )
    assert done.exit_code == 0, done.output
    assert "counted as partner engagement" in done.output
    assert runner.invoke(app, ["attribute", "-w", path, "--reason", "test"], env=env).exit_code == 0
    [win] = _json(path)["unattributed_wins"]
    assert (win["opportunity_id"], win["touches"], win["last_touch_at"]) == ("O4", 3, "2025-03-01T00:00:00Z")
    assert win["evidence"].endswith("touch:T1/P2@2025-01-01T00:00:00Z touch:T6/P1@2025-03-01T00:00:00Z")


def test_it_says_what_it_read_and_json_names_the_instant(ws: str) -> None:
    """No --known-at: the data known now (the pinned clock), said under the table and in the json;
    with --known-at, that instant."""
    table = runner.invoke(app, ["accounts", "match", "-w", ws], env={"COLUMNS": "80"})
    assert table.stdout.splitlines()[-1] == "Read with the data known at 2026-06-01T00:00:00Z (--known-at)."
    assert _json(ws)["known_at"] == "2026-06-01T00:00:00Z"
    args = ["accounts", "match", "-w", ws, "--format", "json", "--known-at", "2026-06-15"]
    earlier = runner.invoke(app, args, env={"COSELL_NOW": "2026-07-01T00:00:00Z"})
    assert earlier.exit_code == 0, earlier.output
    assert json.loads(earlier.stdout)["known_at"] == "2026-06-15T00:00:00Z"
    assert "Read with the data known at 2026-06-15T00:00:00Z (--known-at)." in earlier.stderr
