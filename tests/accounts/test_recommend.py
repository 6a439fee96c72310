"""``cosell accounts recommend``: partners ranked for an open deal, on the hand-computed dataset of
tests/accounts/overlap_world.py, and the ranking rule on its own."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from overlap_world import write
from typer.testing import CliRunner

from cosell.accounts.recommend import DealFact, History, RegistrationFact, TouchFact, recommend
from cosell.cli.app import app

runner = CliRunner()


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> str:
    base = tmp_path_factory.mktemp("recommend")
    path = str(base / "ws.duckdb")
    env = {"COSELL_NOW": "2026-06-01T00:00:00Z"}
    assert (
        runner.invoke(app, ["import", "canonical", str(write(base / "data")), "-w", path], env=env).exit_code
        == 0
    )
    assert runner.invoke(app, ["attribute", "-w", path, "--reason", "test"], env=env).exit_code == 0
    return path


def _ranked(ws: str, opp: str, as_of: str) -> list[dict]:
    done = runner.invoke(app, ["accounts", "recommend", opp, "-w", ws, "--as-of", as_of, "--format", "json"])
    assert done.exit_code == 0, done.output
    return json.loads(done.stdout)["partners"]


def imported_and_attributed(tmp_path: Path, tables: dict[str, list[dict[str, str]]]) -> str:
    """A workspace with ``tables`` imported and attributed at 2026-06-01, through the CLI."""
    path = str(tmp_path / "ws.duckdb")
    env = {"COSELL_NOW": "2026-06-01T00:00:00Z"}
    done = runner.invoke(
        app, ["import", "canonical", str(write(tmp_path / "data", tables)), "-w", path], env=env
    )
    assert done.exit_code == 0, done.output
    assert runner.invoke(app, ["attribute", "-w", path, "--reason", "test"], env=env).exit_code == 0
    return path


def test_an_open_registration_ranks_first(ws: str) -> None:
    # O3 on A2 (segment MM): P2 registered A2 (R1, approved, 90 days from 2026-04-20); P1 lists A2 as
    # its customer and won O1 in MM (created 2026-01-10, closed 2026-03-01: 50 days).
    ranked = _ranked(ws, "O3", "2026-06-01")
    assert [(p["rank"], p["partner_id"], p["registration_id"]) for p in ranked] == [
        (1, "P2", "R1"),
        (2, "P1", None),
    ]
    assert (
        ranked[0]["reasons"][0]
        == "registered the account (R1, approved, protected until 2026-07-19T00:00:00Z)"
    )
    p1 = ranked[1]
    assert (p1["overlap_status"], p1["segment_won"], p1["segment_closed"], p1["win_rate"], p1["median_cycle_days"]) == (
        "customer", 1, 1, "1.000", "50.0")  # fmt: skip
    # One closed deal is "1 closed attributed deal", not "deals".
    assert p1["reasons"] == [
        "lists the account as its customer",
        "in segment MM: 1 won of 1 closed attributed deal (win rate 100.0%), median cycle 50.0 days",
    ]


def test_only_what_was_known_at_the_instant(ws: str) -> None:
    # O1 as of 2026-02-15, while open: P1's touch T2 (2026-02-01) is known; no MM deal had closed.
    [p1] = _ranked(ws, "O1", "2026-02-15")
    assert (p1["partner_id"], p1["touches"], p1["last_touch_at"], p1["segment_closed"]) == (
        "P1", 1, "2026-02-01T00:00:00Z", 0)  # fmt: skip
    # As of 2026-01-20 the touch had not happened: P1 is there for its list only.
    [p1] = _ranked(ws, "O1", "2026-01-20")
    assert (p1["touches"], p1["reasons"]) == (0, ["lists the account as its customer"])


def test_closed_unknown_and_not_yet_created_deals_are_refused(ws: str) -> None:
    closed = runner.invoke(app, ["accounts", "recommend", "O1", "-w", ws, "--as-of", "2026-06-01"])
    assert closed.exit_code == 1 and "is closed (won at 2026-03-01T00:00:00Z)" in closed.output
    unknown = runner.invoke(app, ["accounts", "recommend", "O9", "-w", ws])
    assert unknown.exit_code == 1 and "no opportunity 'O9'" in unknown.output
    early = runner.invoke(app, ["accounts", "recommend", "O2", "-w", ws, "--as-of", "2026-01-01"])
    assert early.exit_code == 1 and "was created at 2026-04-01T00:00:00Z" in early.output


def test_it_says_which_instant_is_which(ws: str) -> None:
    """The line every reading command prints: under the ranking, on stderr beside json (which
    names both instants)."""
    env = {"COSELL_NOW": "2026-06-01T00:00:00Z", "COLUMNS": "80"}
    args = ["accounts", "recommend", "O3", "-w", ws]
    line = "Evaluated as of 2026-05-01T00:00:00Z (--as-of), with the data known at 2026-06-01T00:00:00Z (--known-at)."
    table = runner.invoke(app, [*args, "--as-of", "2026-05-01"], env=env)
    assert table.exit_code == 0, table.output
    assert " ".join(table.stdout.splitlines()[-2:]) == line
    done = runner.invoke(app, [*args, "--as-of", "2026-05-01", "--format", "json"], env=env)
    assert (json.loads(done.stdout)["as_of"], json.loads(done.stdout)["known_at"]) == (
        "2026-05-01T00:00:00Z", "2026-06-01T00:00:00Z")  # fmt: skip
    assert " ".join(done.stderr.split()) == line
    # Neither given: both are now.
    now = runner.invoke(app, [*args, "--format", "json"], env=env)
    assert (json.loads(now.stdout)["as_of"], json.loads(now.stdout)["known_at"]) == (
        "2026-06-01T00:00:00Z", "2026-06-01T00:00:00Z")  # fmt: skip


def test_the_table_at_80_columns(ws: str) -> None:
    done = runner.invoke(
        app, ["accounts", "recommend", "O3", "-w", ws, "--as-of", "2026-06-01"], env={"COLUMNS": "80"}
    )
    assert done.exit_code == 0, done.output
    assert max(len(line) for line in done.stdout.splitlines()) <= 80
    assert "1. Beta (P2)" in done.stdout and "2. Alpha (P1)" in done.stdout


T0 = datetime(2026, 1, 1, tzinfo=UTC)
PARTNERS = ["P1", "P2", "P3", "P4"]


@given(
    touches=st.lists(st.tuples(st.sampled_from(PARTNERS), st.integers(0, 400)), max_size=8),
    registered=st.lists(st.sampled_from(PARTNERS), max_size=2, unique=True),
    listed=st.dictionaries(
        st.sampled_from(PARTNERS), st.sampled_from(["customer", "prospect", "open_opportunity"])
    ),
    seed=st.integers(0, 99),
)
def test_the_ranking_follows_its_rule_and_not_the_row_order(
    touches: list[tuple[str, int]], registered: list[str], listed: dict[str, str], seed: int
) -> None:

    deal = DealFact("O", "A", "MM", T0 + timedelta(days=300), None, "open", ())
    facts = [TouchFact(f"T{i}", "A", p, T0 + timedelta(days=d)) for i, (p, d) in enumerate(touches)]
    regs = [
        RegistrationFact(f"R{p}", p, "A", T0 + timedelta(days=290), "approved", T0 + timedelta(days=400))
        for p in registered
    ]
    overlap = {(p, "A"): s for p, s in listed.items()}
    at = T0 + timedelta(days=300)
    ranked = recommend(History([deal], facts, regs, overlap, {}), "O", at, lookback_days=180)
    shuffled = facts[:]
    random.Random(seed).shuffle(shuffled)
    assert recommend(History([deal], shuffled, regs[::-1], overlap, {}), "O", at, lookback_days=180) == ranked
    # Registered partners first; then by touches in the lookback (days 120..300); nobody without a reason.
    keys = [(r.registration is None, -r.touches) for r in ranked]
    assert keys == sorted(keys)
    in_window = {p for p, d in touches if 120 <= d <= 300}
    assert {r.partner_id for r in ranked} == set(registered) | in_window | set(listed)


def test_a_partner_touch_of_a_direct_kind_counts_as_its_engagement(tmp_path: Path) -> None:
    # SPEC section 1: a partner touch of a direct kind is partner engagement; recommend counted only
    # the partner list's kinds, so P2's demo_request on A1 gave it no touch (found by fuzzing
    # accounts recommend with touch kinds).
    from overlap_world import TABLES

    tables = {**TABLES, "touches": [*TABLES["touches"], {
        "touch_id": "T7", "occurred_at": "2026-05-01", "account_id": "A1", "actor": "partner",
        "kind": "demo_request", "partner_id": "P2"}]}  # fmt: skip
    path = imported_and_attributed(tmp_path, tables)
    p2 = next(p for p in _ranked(path, "O2", "2026-06-01") if p["partner_id"] == "P2")
    assert (p2["touches"], p2["last_touch_at"]) == (1, "2026-05-01T00:00:00Z")


def test_a_registration_with_an_empty_status_is_no_open_registration(tmp_path: Path) -> None:
    # A CRM registration with no status is not approved and does not count (docs/rules.md), it
    # protects nothing in channel conflicts and `registrations list` shows its status empty; recommend
    # read it as pending and ranked its partner first, "registered the account (R2, pending,
    # protected until ...)" (found by fuzzing accounts recommend with imported registrations).
    from overlap_world import TABLES

    tables = {**TABLES, "deal_registrations": [*TABLES["deal_registrations"], {
        "registration_id": "R2", "partner_id": "P2", "account_id": "A1", "registered_at": "2026-05-01",
        "status": ""}]}  # fmt: skip
    path = imported_and_attributed(tmp_path, tables)
    ranked = _ranked(path, "O2", "2026-06-01")
    assert all(p["registration_id"] is None for p in ranked)
    assert "P2" not in [p["partner_id"] for p in ranked]  # nothing else puts P2 on A1
