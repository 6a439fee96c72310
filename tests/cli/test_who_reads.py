"""Who may read what (SPEC section 9) through the readers' ``--by USER`` (default ``$COSELL_USER``):
a partner user reads only the deals its partner is on and never another partner's name, id or
amounts; a rep reads its own deals and prompts; finance (and partner_ops, admin) and a reader with
no name read everything; the program-wide reports are refused to partner users and reps.

Every case runs over the session's small demo (read only), whose users include partner users of
each partner, reps, finance and partner_ops; the ids and names are read from it, not written here.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cosell.cli.app import app
from cosell.store.workspace import open_workspace

runner = CliRunner()
# The demo's data ends in 2026-10; every run reads it at the same instant, so two runs compare.
ENV = {"COLUMNS": "80", "COSELL_NOW": "2026-11-15T00:00:00Z"}


@dataclass(frozen=True)
class Cast:
    """Who reads the small demo, and what each may or may not see."""

    workspace: Path
    partner_user: str  # works for ``partner_id``: the partner with the largest credit in 2026-Q3
    partner_id: str
    partner_name: str
    other_id: str  # the partner ranked second in 2026-Q3: the partner user must never see it
    other_name: str
    rep: str  # an ae who owns deals
    finance: str


def _money_forms(amount: Decimal) -> list[str]:
    """An amount as each format writes it: 12,345.67 (table, html) and 12345.67 (json, csv)."""
    return [f"{amount:,.2f}", f"{amount:.2f}"]


@pytest.fixture(scope="module")
def cast(small_demo: Path) -> Cast:
    league = json.loads(read(small_demo, "report", "partners", "--period", "2026-Q3", "--format", "json"))
    rows = league["sections"]["league"]["table"]["rows"]
    first, second = rows[0], rows[1]
    ws = open_workspace(small_demo, read_only=True, create=False)
    try:
        users = ws.con.execute("SELECT user_id, role, partner_id FROM cur_users ORDER BY user_id").fetchall()
    finally:
        ws.close()
    partner_user = next(u for u, _, p in users if p == first["partner_id"])
    rep = next(u for u, role, p in users if role == "ae" and not p)
    finance = next(u for u, role, p in users if role == "finance" and not p)
    return Cast(
        small_demo, partner_user, first["partner_id"], first["partner"], second["partner_id"],
        second["partner"], rep, finance,
    )  # fmt: skip


def read(workspace: Path, *args: str) -> str:
    done = runner.invoke(app, [*args, "--workspace", str(workspace)], env=ENV)
    assert done.exit_code == 0, done.output
    return done.stdout  # json and csv stay machine-readable: the instants are said on stderr


def refused(workspace: Path, *args: str) -> str:
    done = runner.invoke(app, [*args, "--workspace", str(workspace)], env=ENV)
    assert done.exception is None or isinstance(done.exception, SystemExit), repr(done.exception)
    assert done.exit_code == 1, done.output
    return " ".join(done.output.split())


def formats_of(workspace: Path, tmp_path: Path, *args: str) -> Iterator[tuple[str, str]]:
    """The report ``args`` in every format, as text: table, json, csv, html from the terminal or
    the file; xlsx as its cells; pdf through pdftotext."""
    for fmt in ("table", "json", "csv"):
        yield fmt, read(workspace, *args, "--format", fmt)
    for fmt in ("html", "xlsx", "pdf"):
        out = tmp_path / f"report.{fmt}"
        read(workspace, *args, "--format", fmt, "--out", str(out))
        if fmt == "html":
            yield fmt, out.read_text(encoding="utf-8")
        elif fmt == "xlsx":
            from openpyxl import load_workbook

            book = load_workbook(out)
            cells = [str(c) for sheet in book for row in sheet.iter_rows(values_only=True) for c in row if c]
            yield fmt, "\n".join(cells)
        else:
            done = subprocess.run(
                ["pdftotext", "-raw", str(out), "-"], check=True, capture_output=True, text=True
            )
            yield fmt, done.stdout


# --- the program-wide reports -----------------------------------------------------------------


@pytest.mark.parametrize("report", ["cfo", "qbr"])
def test_the_program_reports_are_refused_to_a_partner_user_and_a_rep(cast: Cast, report: str) -> None:
    everything = read(cast.workspace, "report", report, "--format", "json")
    for who, what in ((cast.partner_user, "partner user"), (cast.rep, "rep")):
        out = refused(cast.workspace, "report", report, "--format", "json", "--by", who)
        assert f"{who} is a {what}" in out and "finance, partner_ops and admin" in out, out
        assert "{" not in out and cast.other_name not in out, out
    # Finance reads the same report as the operator with no name.
    by_finance = read(cast.workspace, "report", report, "--format", "json", "--by", cast.finance)
    assert _without_instants(by_finance) == _without_instants(everything)


def _without_instants(text: str) -> str:
    """A report's JSON without the "(now)" instants that differ between two runs a second apart."""
    import re

    return re.sub(r"\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(Z| UTC)", "T", text)


def test_the_league_table_shows_a_partner_user_its_own_row_only(cast: Cast, tmp_path: Path) -> None:
    args = ("report", "partners", "--period", "2026-Q3")
    league = json.loads(read(cast.workspace, *args, "--format", "json"))["sections"]["league"]
    second = league["table"]["rows"][1]
    assert second["partner_id"] == cast.other_id
    other_amounts = _money_forms(Decimal(second["credited_revenue"]))
    total = league["figures"]["credited_revenue"]["value"]
    for fmt, shown in formats_of(cast.workspace, tmp_path, *args, "--by", cast.partner_user):
        text = " ".join(shown.split())  # a pdf table cell wraps a name between its words
        assert cast.partner_id in text and cast.partner_name in text, fmt
        for hidden in (cast.other_name, cast.other_id, *other_amounts, *_money_forms(Decimal(total))):
            assert hidden not in text, (fmt, hidden)
    shown = json.loads(read(cast.workspace, *args, "--format", "json", "--by", cast.partner_user))
    assert [r["partner_id"] for r in shown["sections"]["league"]["table"]["rows"]] == [cast.partner_id]
    # Finance and the operator with no name read every row.
    for by in ((), ("--by", cast.finance)):
        every = json.loads(read(cast.workspace, *args, "--format", "json", *by))["sections"]["league"]
        assert len(every["table"]["rows"]) == len(league["table"]["rows"]) > 1


def test_the_league_table_is_refused_to_a_rep(cast: Cast) -> None:
    out = refused(cast.workspace, "report", "partners", "--by", cast.rep)
    assert f"{cast.rep} is a rep" in out and cast.other_name not in out, out


def test_an_unknown_reader_is_refused_naming_by(cast: Cast) -> None:
    for args in (("report", "cfo"), ("report", "partners")):
        out = refused(cast.workspace, *args, "--by", cast.partner_user + "x")
        assert f"--by (or $COSELL_USER): no user {cast.partner_user}x" in out, out


# --- the program-wide readers: gate audit, account overlap, simulate ------------------------------

EXAMPLE_POLICY = Path(__file__).resolve().parents[2] / "docs" / "examples" / "proposed-policy.toml"
PROGRAM_READS = {
    "gate audit": ("gate", "audit", "--format", "json"),
    "account overlap": ("accounts", "match", "--format", "json"),
    "simulation": ("simulate", "--policy", str(EXAMPLE_POLICY), "--format", "json"),
}


@pytest.mark.parametrize("what", list(PROGRAM_READS))
def test_a_program_wide_read_is_refused_to_a_partner_user_and_a_rep(cast: Cast, what: str) -> None:
    args = PROGRAM_READS[what]
    everything = read(cast.workspace, *args)
    assert cast.other_id in everything or "006Dm" in everything  # it shows deals or partners
    for who, role in ((cast.partner_user, "partner user"), (cast.rep, "rep")):
        out = refused(cast.workspace, *args, "--by", who)
        assert f"{who} is a {role}" in out and "only finance, partner_ops and admin" in out, out
        assert "006Dm" not in out and cast.other_id not in out and cast.other_name not in out, out
    assert read(cast.workspace, *args, "--by", cast.finance) == everything
    out = refused(cast.workspace, *args, "--by", "nobody-here")
    assert "--by (or $COSELL_USER): no user nobody-here" in out, out


def _open_deals(cast: Cast) -> tuple[str, str]:
    """An open deal of ``cast.rep`` and an open deal of another rep."""
    ws = open_workspace(cast.workspace, read_only=True, create=False)
    try:
        rows = ws.con.execute(
            "SELECT opportunity_id, owner_id FROM cur_opportunities WHERE NOT is_closed ORDER BY 1"
        ).fetchall()
    finally:
        ws.close()
    own = next(o for o, owner in rows if owner == cast.rep)
    theirs = next(o for o, owner in rows if owner != cast.rep)
    return own, theirs


def test_a_rep_ranks_partners_for_its_own_deals_only(cast: Cast) -> None:
    own, theirs = _open_deals(cast)
    for fmt in ("table", "json", "csv"):
        mine = read(cast.workspace, "accounts", "recommend", own, "--format", fmt, "--by", cast.rep)
        assert mine == read(cast.workspace, "accounts", "recommend", own, "--format", fmt)
        # Another rep's deal is one that does not exist, with no id suggested.
        out = refused(cast.workspace, "accounts", "recommend", theirs, "--format", fmt, "--by", cast.rep)
        assert out == f"error: no opportunity {theirs}", out
        assert out == refused(
            cast.workspace, "accounts", "recommend", "006Dm0000009999", "--by", cast.rep
        ).replace("006Dm0000009999", theirs)
        # Finance ranks for any deal.
        assert read(cast.workspace, "accounts", "recommend", theirs, "--format", fmt, "--by", cast.finance)


def test_a_partner_user_may_not_rank_partners(cast: Cast) -> None:
    own, _ = _open_deals(cast)
    out = refused(cast.workspace, "accounts", "recommend", own, "--by", cast.partner_user)
    assert f"{cast.partner_user} is a partner user" in out and own not in out, out


# --- prompts --------------------------------------------------------------------------------------

PROMPTS = ("prompts", "--status", "all", "--as-of", "2026-11-01T00:00:00Z")  # read only: nothing issued


def test_a_rep_reads_its_own_prompts_only(cast: Cast) -> None:
    every = json.loads(read(cast.workspace, *PROMPTS, "--format", "json"))
    others = {p["rep_id"] for p in every} - {cast.rep}
    assert others and any(p["rep_id"] == cast.rep for p in every)
    mine = json.loads(read(cast.workspace, *PROMPTS, "--format", "json", "--by", cast.rep))
    assert mine == [p for p in every if p["rep_id"] == cast.rep]
    for fmt in ("table", "csv"):
        text = read(cast.workspace, *PROMPTS, "--format", fmt, "--by", cast.rep)
        assert cast.rep in text and not any(rep in text for rep in others), fmt
    # Another rep's prompts: none, as for a rep who has none.
    other = sorted(others)[0]
    assert (
        json.loads(read(cast.workspace, *PROMPTS, "--format", "json", "--rep", other, "--by", cast.rep)) == []
    )
    assert json.loads(read(cast.workspace, *PROMPTS, "--format", "json", "--by", cast.finance)) == every


def test_the_prompt_inbox_is_refused_to_a_partner_user(cast: Cast) -> None:
    out = refused(cast.workspace, *PROMPTS, "--by", cast.partner_user)
    assert f"{cast.partner_user} is a partner user" in out and "PRM-" not in out, out


# --- explain --------------------------------------------------------------------------------------

EXPLAIN = ("--known-at", "2026-11-01T00:00:00Z")


@dataclass(frozen=True)
class SharedDeal:
    """A deal credited to several partners, read by a user of one of them."""

    opportunity_id: str
    owner: str
    partner_user: str
    partner_id: str
    partner_name: str
    others: dict[str, tuple[str, Decimal]]  # partner_id -> (name, credited amount)
    not_on: str  # a deal whose rows never name the reader's partner


@pytest.fixture(scope="module")
def shared(cast: Cast) -> SharedDeal:
    ws = open_workspace(cast.workspace, read_only=True, create=False)
    try:
        con = ws.con
        deal, partner_id = con.execute(
            "SELECT c.opportunity_id, min(c.partner_id) FROM credits_latest c "
            "WHERE c.partner_id IN (SELECT partner_id FROM cur_users WHERE partner_id IS NOT NULL) "
            "GROUP BY 1 HAVING count(*) >= 3 ORDER BY 1 LIMIT 1"
        ).fetchone()
        credits = con.execute(
            "SELECT c.partner_id, p.name, c.amount FROM credits_latest c JOIN cur_partners p USING (partner_id) "
            "WHERE c.opportunity_id = ? ORDER BY 1",
            [deal],
        ).fetchall()
        names = {p: name for p, name, _ in credits}
        owner = con.execute(
            "SELECT owner_id FROM cur_opportunities WHERE opportunity_id = ?", [deal]
        ).fetchone()[0]
        user = con.execute(
            "SELECT min(user_id) FROM cur_users WHERE partner_id = ? AND role = 'partner'", [partner_id]
        ).fetchone()[0]
        mentions = " UNION ".join(
            f"SELECT opportunity_id FROM {t} WHERE partner_id = $p AND opportunity_id IS NOT NULL"
            for t in (
                "credits_latest",
                "cur_opportunities",
                "cur_opportunity_partners",
                "cur_deal_registrations",
                "cur_touches",
            )
        )
        not_on = con.execute(
            f"SELECT min(opportunity_id) FROM credits_latest WHERE opportunity_id NOT IN ({mentions}) "
            "AND opportunity_id NOT IN (SELECT converted_opportunity_id FROM cur_leads WHERE partner_id = $p "
            "AND converted_opportunity_id IS NOT NULL)",
            {"p": partner_id},
        ).fetchone()[0]
    finally:
        ws.close()
    others = {p: (name, Decimal(amount)) for p, name, amount in credits if p != partner_id}
    return SharedDeal(deal, owner, user, partner_id, names[partner_id], others, not_on)


def test_a_partner_user_reads_its_own_credit_and_no_other_partner_in_an_explanation(
    cast: Cast, shared: SharedDeal
) -> None:
    deal = shared.opportunity_id
    everything = read(cast.workspace, "explain", deal, *EXPLAIN)
    for other, (name, amount) in shared.others.items():
        assert other in everything and name in everything and f"{amount:,.2f}" in everything
    for fmt in ("table", "json"):
        text = read(cast.workspace, "explain", deal, *EXPLAIN, "--format", fmt, "--by", shared.partner_user)
        assert shared.partner_id in text and shared.partner_name in text, fmt
        for other, (name, amount) in shared.others.items():
            for hidden in (other, name, *_money_forms(amount)):
                assert hidden not in text, (fmt, hidden)
    data = json.loads(
        read(cast.workspace, "explain", deal, *EXPLAIN, "--format", "json", "--by", shared.partner_user)
    )
    assert [c["partner_id"] for c in data["credits"]] == [shared.partner_id]
    assert "other partners' credits are not shown" in data["sentences"][-3]


def test_a_deal_the_partner_is_not_on_is_one_that_does_not_exist(cast: Cast, shared: SharedDeal) -> None:
    for fmt in ("table", "json"):
        out = refused(
            cast.workspace, "explain", shared.not_on, *EXPLAIN, "--format", fmt, "--by", shared.partner_user
        )
        assert out == f"error: no opportunity {shared.not_on}", out
        missing = refused(cast.workspace, "explain", "006Dm0000009999", *EXPLAIN, "--by", shared.partner_user)
        assert missing == "error: no opportunity 006Dm0000009999", missing


def test_a_rep_explains_its_own_deals_and_finance_every_deal(cast: Cast, shared: SharedDeal) -> None:
    deal = shared.opportunity_id
    for fmt in ("table", "json"):
        everything = read(cast.workspace, "explain", deal, *EXPLAIN, "--format", fmt)
        assert (
            read(cast.workspace, "explain", deal, *EXPLAIN, "--format", fmt, "--by", shared.owner)
            == everything
        )
        assert (
            read(cast.workspace, "explain", deal, *EXPLAIN, "--format", fmt, "--by", cast.finance)
            == everything
        )
        other_rep = cast.rep if cast.rep != shared.owner else None
        assert other_rep is not None
        out = refused(cast.workspace, "explain", deal, *EXPLAIN, "--format", fmt, "--by", other_rep)
        assert out == f"error: no opportunity {deal}", out


# --- history, overrides, disputes, findings -------------------------------------------------------


def test_a_partner_user_reads_a_deal_s_history_with_its_own_credit_only(
    cast: Cast, shared: SharedDeal
) -> None:
    deal = shared.opportunity_id
    everything = read(cast.workspace, "history", deal)
    for other, (_name, amount) in shared.others.items():
        assert other in everything and f"{amount:,.2f}" in everything
    for fmt in ("table", "json"):
        text = read(cast.workspace, "history", deal, "--format", fmt, "--by", shared.partner_user)
        assert shared.partner_id in text, fmt
        for other, (name, amount) in shared.others.items():
            for hidden in (other, name, *_money_forms(amount)):
                assert hidden not in text, (fmt, hidden)
    versions = json.loads(
        read(cast.workspace, "history", deal, "--format", "json", "--by", shared.partner_user)
    )
    assert {c["partner_id"] for v in versions for c in v["credits"]} == {shared.partner_id}
    # A deal the partner is not on reads as one that does not exist; its owner and finance read it whole.
    assert refused(cast.workspace, "history", shared.not_on, "--by", shared.partner_user) == (
        f"error: no opportunity {shared.not_on}"
    )
    assert read(cast.workspace, "history", deal, "--by", shared.owner) == everything
    assert read(cast.workspace, "history", deal, "--by", cast.finance) == everything
    other_rep = cast.rep if cast.rep != shared.owner else None
    assert other_rep is not None
    assert refused(cast.workspace, "history", deal, "--by", other_rep) == f"error: no opportunity {deal}"


@pytest.fixture(scope="module")
def disputed(cast: Cast, shared: SharedDeal, tmp_path_factory: pytest.TempPathFactory) -> Cast:
    """The demo with one more dispute: the owner of a deal the partner user's partner is not on
    claims it for another partner."""
    copy = tmp_path_factory.mktemp("disputed") / "cosell.duckdb"
    shutil.copyfile(cast.workspace, copy)
    ws = open_workspace(copy, read_only=True, create=False)
    try:
        owner = ws.con.execute(
            "SELECT owner_id FROM cur_opportunities WHERE opportunity_id = ?", [shared.not_on]
        ).fetchone()[0]
    finally:
        ws.close()
    done = runner.invoke(
        app,
        ["dispute", "open", shared.not_on, "--workspace", str(copy), "--by", owner, "--reason", "ours",
         "--claim", f"sourced/{cast.other_id}", "--now", "2026-11-14T00:00:00Z"],
        env=ENV,
    )  # fmt: skip
    assert done.exit_code == 0, done.output
    return replace(cast, workspace=copy)


@pytest.mark.parametrize("listing", [("overrides", "list"), ("dispute", "list")])
def test_a_partner_user_lists_the_overrides_and_disputes_of_its_partner_s_deals(
    disputed: Cast, listing: tuple[str, str]
) -> None:
    """Every override and dispute is listed to finance; a partner user's list holds those of the
    deals its partner is on, and names no other partner."""
    cast = disputed
    everything = json.loads(read(cast.workspace, *listing, "--format", "json"))
    assert everything, listing  # the demo records both
    assert json.loads(read(cast.workspace, *listing, "--format", "json", "--by", cast.finance)) == everything
    ws = open_workspace(cast.workspace, read_only=True, create=False)
    try:
        from cosell.service.readers import reader, sees_deal

        who = reader(ws.con, cast.partner_user)
        on = {r["opportunity_id"] for r in everything if sees_deal(ws.con, who, r["opportunity_id"])}
        names = dict(ws.con.execute("SELECT partner_id, name FROM cur_partners").fetchall())
    finally:
        ws.close()
    assert on != {r["opportunity_id"] for r in everything}, "another partner's deal is left out"
    for fmt in ("json", "table", "csv"):
        text = read(cast.workspace, *listing, "--format", fmt, "--by", cast.partner_user)
        for other, name in names.items():
            if other != cast.partner_id:
                assert other not in text and name not in text, (fmt, other)
    seen = json.loads(read(cast.workspace, *listing, "--format", "json", "--by", cast.partner_user))
    assert {r["opportunity_id"] for r in seen} == on


@pytest.mark.parametrize(("listing", "leak"), [(("findings", "list"), "UPI-"), (("users", "list"), "@")])
def test_the_findings_and_the_user_directory_are_refused_to_a_partner_user_and_a_rep(
    cast: Cast, listing: tuple[str, str], leak: str
) -> None:
    """The reconciliation's work queue and the directory (every partner's users and their emails)
    are read by finance, partner_ops and admin only."""
    assert json.loads(read(cast.workspace, *listing, "--format", "json", "--by", cast.finance))
    for user in (cast.partner_user, cast.rep):
        out = refused(cast.workspace, *listing, "--by", user)
        assert "only finance, partner_ops and admin users read it" in out and leak not in out, out
