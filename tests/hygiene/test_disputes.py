"""Disputes: who may open and decide, the life cycle, and refusals that change nothing."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cosell.errors import CosellError, NotAllowed, NotFound, UsageError
from cosell.hygiene.decisions import AlreadyDecided
from cosell.hygiene.disputes import decide_dispute, get_dispute, list_disputes, open_dispute, parse_claim
from cosell.store.versions import attribution_views
from cosell.store.workspace import Workspace, open_workspace

from .test_findings import POLICY, build_workspace, kinds_data

OPENED = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)
DECIDED = datetime(2026, 11, 3, 9, 0, tzinfo=UTC)
TABLES = ("disputes", "dispute_decisions", "attribution_overrides", "attribution_runs", "attribution_changes")


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("disputes") / "ws.duckdb"
    build_workspace(path, kinds_data()).close()
    return path


@pytest.fixture()
def ws(built: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Workspace]:
    monkeypatch.setenv("COSELL_NOW", "2026-11-03T09:00:00Z")
    copy = tmp_path / "ws.duckdb"
    shutil.copyfile(built, copy)
    workspace = open_workspace(copy)
    yield workspace
    workspace.close()


def snapshot(ws: Workspace) -> dict[str, list[tuple[object, ...]]]:
    from cosell.store.review import ensure_review_schema

    ensure_review_schema(ws.con)
    return {t: sorted(ws.con.execute(f"SELECT * FROM {t}").fetchall(), key=repr) for t in TABLES}


def tier_of(ws: Workspace, opp: str) -> tuple[str, str, str]:
    attribution_views(ws.con)
    row = ws.con.execute(
        "SELECT tier, primary_partner_id, rules FROM v_attribution WHERE opportunity_id = ?", [opp]
    ).fetchone()
    assert row is not None
    return row[0], row[1] or "", row[2] or ""


def test_a_rep_disputes_and_partner_ops_accepts(ws: Workspace) -> None:
    d = open_dispute(ws, "O-DMM", "U-AE", "the partner only joined a call", "influenced/P1", at=OPENED)
    assert (d.dispute_id, d.status, d.run_id, d.tier, d.partner_id, d.claim) == (
        "D-000001",
        "open",
        1,
        "sourced",
        "P1",
        "influenced/P1",
    )
    assert [x.dispute_id for x in list_disputes(ws.con, status="open")] == ["D-000001"]
    with pytest.raises(NotAllowed, match="U-AE has the role ae"):
        decide_dispute(ws, POLICY, "D-000001", accept=True, by_user="U-AE", reason="mine")
    decided = decide_dispute(
        ws, POLICY, "D-000001", accept=True, by_user="U-OPS", reason="call notes", at=DECIDED
    )
    assert (
        decided.status,
        decided.decided_by,
        decided.decided_at,
        decided.override_id,
        decided.new_run_id,
    ) == ("accepted", "U-OPS", DECIDED, "OVR-000001", 2)
    assert tier_of(ws, "O-DMM") == ("influenced", "P1", "S3 OVR")
    run = ws.con.execute(
        "SELECT kind, scope, by_user, reason FROM attribution_runs WHERE run_id = 2"
    ).fetchone()
    assert run == ("dispute", "partial", "U-OPS", "call notes")
    marker = ws.con.execute("SELECT opportunity_id, run_id, previous_run_id, source FROM attribution_changes")
    assert marker.fetchall() == [("O-DMM", 2, 1, "dispute:D-000001")]
    before = snapshot(ws)
    with pytest.raises(AlreadyDecided, match="dispute D-000001 was already accepted by U-OPS"):
        decide_dispute(ws, POLICY, "D-000001", accept=False, by_user="U-PM", reason="again")
    assert snapshot(ws) == before
    # As of before the decision, the dispute was open.
    assert list_disputes(ws.con, as_of=OPENED)[0].status == "open"


def test_a_partner_disputes_its_own_deal_and_is_rejected(ws: Workspace) -> None:
    d = open_dispute(ws, "O-UPI", "U-P1", "our referral, our deal", "sourced/P1")
    rejected = decide_dispute(
        ws, POLICY, d.dispute_id, accept=False, by_user="U-PM", reason="already sourced"
    )
    assert (rejected.status, rejected.override_id, rejected.new_run_id) == ("rejected", "", None)
    assert ws.con.execute("SELECT count(*) FROM attribution_overrides").fetchone() == (0,)
    assert [x.status for x in list_disputes(ws.con, opportunity_id="O-UPI")] == ["rejected"]


def test_accepting_without_a_claim_needs_a_tier(ws: Workspace) -> None:
    d = open_dispute(ws, "O-ACU", "U-AE", "we were faster than that")
    with pytest.raises(UsageError, match="claims no attribution"):
        decide_dispute(ws, POLICY, d.dispute_id, accept=True, by_user="U-PM", reason="yes")
    decided = decide_dispute(
        ws,
        POLICY,
        d.dispute_id,
        accept=True,
        by_user="U-PM",
        reason="yes",
        tier="accelerated",
        partner_id="P1",
    )
    assert decided.status == "accepted"
    assert tier_of(ws, "O-ACU")[:2] == ("accelerated", "P1")


def test_a_partner_tier_naming_no_partner_on_a_deal_without_one_is_stored_as_a_full_run_gives_it(
    ws: Workspace,
) -> None:
    """O-NONE has no partner anywhere: accepting a claim of influenced that names none stores the
    tier with no partner and no credit, as the batch engine decides it (found by fuzzing the
    re-decisions: the per-deal decision raised a traceback, min() of no credits)."""
    from cosell.attribution.engine import attribute
    from cosell.attribution.explain import explain_opportunity
    from cosell.store.attribution_store import run_rows

    d = open_dispute(ws, "O-NONE", "U-AE", "a partner helped", "influenced")
    decided = decide_dispute(ws, POLICY, d.dispute_id, accept=True, by_user="U-OPS", reason="yes", at=DECIDED)
    assert decided.new_run_id is not None
    rows, credits = run_rows(ws.con, decided.new_run_id)
    full = attribute(ws.con, POLICY, DECIDED, "role_weighted", known_at=DECIDED)
    assert rows == [r for r in full.rows() if r.opportunity_id == "O-NONE"]
    assert (rows[0].tier, rows[0].primary_partner_id, rows[0].rules, credits) == ("influenced", "", "OVR", [])
    explained = explain_opportunity(ws.con, "O-NONE", POLICY, DECIDED).text()
    assert "is partner-influenced, with no partner to credit (the override names none)." in explained


def _open(opp: str, by: str, reason: str = "why", claim: str | None = None) -> Callable[[Workspace], object]:
    return lambda ws: open_dispute(ws, opp, by, reason, claim)


REFUSALS = [
    # To a partner user, a deal its partner is not on is one that does not exist: the same words
    # as for a deal that does not exist at all, and no other id suggested (SPEC section 9).
    ("partner not on the deal", _open("O-UPI", "U-P3"), NotFound, "^no opportunity O-UPI that P3 is on: "),
    (
        "partner on no such deal",
        _open("O-UPX", "U-P3"),
        NotFound,
        r"^no opportunity O-UPX that P3 is on: [^(]*$",
    ),
    ("partner claims for another", _open("O-UPI", "U-P1", claim="sourced/P2"), NotAllowed, "own partner P1$"),
    (
        "partner claims for no such partner",
        _open("O-UPI", "U-P1", claim="sourced/P"),
        NotAllowed,
        "own partner P1$",
    ),
    (
        "account overlap is not appearing",
        _open("O-DMM", "U-P3"),
        NotFound,
        "no opportunity O-DMM that P3 is on",
    ),
    ("unknown user", _open("O-UPI", "U-NOBODY"), NotFound, "no user U-NOBODY"),
    (
        "empty reason",
        _open("O-UPI", "U-AE", reason=" "),
        UsageError,
        "a dispute records why: give a non-empty --reason",
    ),
    ("unknown deal", _open("O-UPX", "U-AE"), NotFound, r"no opportunity O-UPX \(did you mean O-UPI\?\)"),
    # The claim's errors name --claim, the option a dispute's tier comes from (found by fuzzing
    # the CLI's options: they named no option, and --partner, which `dispute open` does not have).
    (
        "bad claim tier",
        _open("O-UPI", "U-AE", claim="partnered/P1"),
        UsageError,
        "^--claim: tier must be one of",
    ),
    (
        "sourced claim without partner",
        _open("O-UPI", "U-AE", claim="sourced"),
        UsageError,
        "sourcing partner: --claim sourced/P$",
    ),
    (
        "unknown dispute",
        lambda ws: decide_dispute(ws, POLICY, "D-9", accept=False, by_user="U-OPS", reason="x"),
        NotFound,
        "no dispute D-9",
    ),
]


@pytest.mark.parametrize(("case", "call", "error", "message"), REFUSALS, ids=[r[0] for r in REFUSALS])
def test_refusals_change_nothing(
    ws: Workspace, case: str, call: Callable[[Workspace], object], error: type[CosellError], message: str
) -> None:
    before = snapshot(ws)
    with pytest.raises(error, match=message):
        call(ws)
    assert snapshot(ws) == before


def test_decide_refusals_change_nothing(ws: Workspace) -> None:
    d = open_dispute(ws, "O-UPI", "U-AE", "why", "influenced/P1")
    before = snapshot(ws)
    refused = (
        ("U-FIN", "x", NotAllowed),
        ("U-ADMIN", "x", NotAllowed),
        ("U-OPS", "", UsageError),
        ("U-X", "x", NotFound),
    )
    for by, reason, error in refused:
        with pytest.raises(error):
            decide_dispute(ws, POLICY, d.dispute_id, accept=True, by_user=by, reason=reason)
    with pytest.raises(NotFound, match=r"did you mean D-000001\?"):
        get_dispute(ws.con, "D-000011")
    assert snapshot(ws) == before


def test_a_dispute_dated_before_what_is_recorded_is_refused(ws: Workspace) -> None:
    """Opening or deciding a dispute before the last recorded instant would rewrite what an earlier
    reading printed (a dispute decided before it was opened, among others): refused."""
    d = open_dispute(ws, "O-UPI", "U-AE", "why", "influenced/P1", at=DECIDED)
    before = snapshot(ws)
    message = "2026-11-02T10:00:00Z is before the last recorded change, a dispute at 2026-11-03T09:00:00Z:"
    with pytest.raises(CosellError, match=message):
        decide_dispute(ws, POLICY, d.dispute_id, accept=True, by_user="U-OPS", reason="x", at=OPENED)
    with pytest.raises(CosellError, match=message):
        open_dispute(ws, "O-DMM", "U-AE", "why", at=OPENED)
    assert snapshot(ws) == before
    assert get_dispute(ws.con, d.dispute_id).status == "open"


def test_a_deal_decided_by_a_reviewer_raises_no_new_finding(ws: Workspace) -> None:
    """O-ACC is declared and computed accelerated/P1. A dispute accepted as influenced makes the
    computed tier differ from the declared one; the reviewer decided it, so no finding appears."""
    from cosell.service.reconcile import reconcile_known as reconcile  # with the account overlap matched

    before = reconcile(ws, POLICY, period="2026-10")
    assert not [f for f in before.findings if f.opportunity_id == "O-ACC"]
    d = open_dispute(ws, "O-ACC", "U-AE", "the partner did not speed it up", "influenced/P1")
    decide_dispute(ws, POLICY, d.dispute_id, accept=True, by_user="U-OPS", reason="agreed")
    assert tier_of(ws, "O-ACC")[:2] == ("influenced", "P1")
    after = reconcile(ws, POLICY, period="2026-10")
    assert not [f for f in after.findings if f.opportunity_id == "O-ACC"]
    assert after.new_findings == 0


def test_a_partner_user_is_not_told_the_other_partner_credited(ws: Workspace) -> None:
    """O-DBS is sourced by P1; P2 registered it too, so a P2 user may dispute it. What the dispute
    shows that user names the tier disputed, not P1 (partners see only their own deals)."""
    from cosell.service.disputes import open_on
    from cosell.service.users import set_user

    set_user(ws, "U-P2", by_user="U-ADMIN", reason="P2's portal user", role="partner", partner_id="P2")
    d = open_on(ws, "O-DBS", by_user="U-P2", reason="we registered it", claim="sourced/P2")
    assert (d.tier, d.partner_id, d.claim) == ("sourced", "", "sourced/P2")
    # The dispute itself records the attribution disputed, whole, for the reviewer.
    assert get_dispute(ws.con, d.dispute_id).partner_id == "P1"
    # Anyone else opening one is told the partner.
    assert open_on(ws, "O-DBS", by_user="U-AE", reason="check it", claim=None).partner_id == "P1"


@given(st.text(alphabet=" /abcP7", max_size=12))
def test_a_claim_that_names_a_partner_names_its_tier(text: str) -> None:
    """Found by fuzzing ``dispute open --claim /P7``: a claim of a partner with no tier was stored,
    and no decision could apply it; so was ``--claim /``, a dispute claiming nothing. A claim given
    without a tier is refused; a blank one is no claim; any other parses to (tier, partner) with a
    partner only beside a tier."""
    tier_part, _, partner_part = text.strip().partition("/")
    if text.strip() and not tier_part.strip():
        with pytest.raises(UsageError, match="names no tier"):
            parse_claim(text)
        return
    tier, partner = parse_claim(text)
    assert tier == tier_part.strip().lower()
    assert partner == (partner_part.strip() or None)
    assert partner is None or tier


def test_listing_an_unknown_deals_disputes_or_overrides_is_refused(ws: Workspace) -> None:
    """Found by fuzzing `dispute list --opportunity` and `overrides list --opportunity`: a deal the
    workspace does not hold (a typo) listed no rows with exit 0, as if it had none. Both now say
    "no opportunity X (did you mean ...?)" and exit 1, as `history` and `dispute open` do; a known
    deal with none still lists none, and a deal's disputes of another status are no error."""
    from cosell.service.disputes import disputes
    from cosell.service.reconcile import overrides

    for listing in (lambda o: disputes(ws, opportunity_id=o), lambda o: overrides(ws, o)):
        with pytest.raises(NotFound, match=r"^no opportunity O-UPX \(did you mean O-UPI\?\)$") as refused:
            listing("O-UPX")
        assert refused.value.exit_code == 1
        assert listing("O-UPI") == []
    open_dispute(ws, "O-UPI", "U-AE", "why", "influenced/P1", at=DECIDED)
    assert [d.opportunity_id for d in disputes(ws, opportunity_id="O-UPI")] == ["O-UPI"]
    assert disputes(ws, status="rejected", opportunity_id="O-UPI") == []
