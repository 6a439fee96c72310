"""The referral workflow on the small workspace of :mod:`.world`: submit, answer, accept, reject."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cosell.cli.app import app
from cosell.data.load import import_canonical
from cosell.errors import CosellError, InputError, NotAllowed, UsageError
from cosell.instants import format_instant
from cosell.policy import Policy
from cosell.referrals.parsed import FieldSource, ParsedReferral
from cosell.service import referrals as service
from cosell.store.workspace import Workspace

from .world import at, write_tables

POLICY = Policy()


def referral_json(source_ref: str = "crm-1", **prospect: str) -> bytes:
    doc = {
        "source_ref": source_ref,
        "received_at": "2026-06-01T10:00:00Z",
        "sender_emails": ["ops@ourco.com", "Ann@Alpha-Partners.com"],  # forwarded by our colleague
        "sender_name": "Ann Alpha",
        "prospect": prospect,
    }
    return json.dumps(doc).encode()


def count(ws: Workspace, sql: str) -> int:
    row = ws.con.execute(sql).fetchone()
    assert row is not None
    return int(row[0])


def test_needs_info_then_answer_then_accept_makes_a_partner_lead_that_sources_a_deal(
    ref_ws: Workspace, tmp_path: Path
) -> None:
    with at("2026-06-02T09:00:00Z"):
        done = service.submit_json(
            ref_ws, referral_json(company="Contoso"), "ref.json", "u-ops", "from the inbox"
        )
    r = done.referral.current
    assert done.created and r.referral_id == "REF-000001" and r.version == 1
    assert (r.partner_id, r.partner_contact_id, r.partner_method) == ("P1", "C1", "contact_email")
    assert r.partner_evidence == "ann@alpha-partners.com is partner contact C1's email"
    assert (r.account_id, r.account_method) == ("A2", "name")  # "Contoso" is "Contoso Ltd"
    assert r.status == "needs_info" and r.missing == ("prospect_name", "prospect_email")
    assert r.follow_up.splitlines()[:2] == [
        "To: ann@alpha-partners.com",
        "Subject: REF-000001: a few details missing",
    ]
    assert "- the full name of the person you are introducing\n- their email address" in r.follow_up
    assert FieldSource("prospect_company", "ref.json prospect.company", "Contoso") in done.referral.sources

    with at("2026-06-03T09:00:00Z"):
        answered = service.answer(ref_ws, "REF-000001", by="u-p1", name="Dana Diaz", email="Dana@Contoso.com")
    v = answered.current
    assert (v.version, v.status, v.missing, v.follow_up) == (2, "open", (), "")
    assert (v.prospect_email, v.account_id, v.account_method) == ("dana@contoso.com", "A2", "domain")
    where = "answered by u-p1 at 2026-06-03T09:00:00Z"
    assert FieldSource("prospect_email", where, "dana@contoso.com") in answered.sources

    with at("2026-06-04T09:00:00Z"):
        accepted = service.accept(ref_ws, POLICY, "REF-000001", by="u-ops", reason="good intro")
    a = accepted.current
    assert (a.version, a.status, a.lead_id, a.by_user, a.reason) == (
        3,
        "accepted",
        "REF-000001",
        "u-ops",
        "good intro",
    )
    lead = ref_ws.con.execute(
        "SELECT created_at, company, email, account_id, source, partner_id, partner_contact_id "
        "FROM cur_leads WHERE lead_id = 'REF-000001'"
    ).fetchone()
    assert lead is not None
    assert (format_instant(lead[0]), *lead[1:]) == (
        "2026-06-01T10:00:00Z", "Contoso", "dana@contoso.com", "A2", "partner_referral", "P1", "C1",
    )  # fmt: skip
    logged = ref_ws.con.execute(
        "SELECT by_user, source, reason FROM imports ORDER BY import_id DESC LIMIT 1"
    ).fetchone()
    assert logged == ("u-ops", "cosell referrals accept REF-000001", "good intro")
    assert [h.action for h in accepted.history] == ["submitted", "answered", "accepted"]

    # The CRM converts the lead: a deal on A2 created inside the lookback names it. S1 sources it.
    deal = {"opportunity_id": "O2", "account_id": "A2", "created_at": "2026-06-20", "amount": "9000.00",
            "currency": "USD", "stage": "Discovery", "owner_id": "u-ae", "source_lead_id": "REF-000001"}  # fmt: skip
    with at("2026-06-21T00:00:00Z"):
        import_canonical(ref_ws, write_tables(tmp_path / "deal", {"opportunities": [deal]}), partial=True)
    path = ref_ws.path
    ref_ws.close()
    runner = CliRunner()
    ran = runner.invoke(app, ["attribute", "-w", path, "--now", "2026-06-22T00:00:00Z", "--by", "u-ops"])
    assert ran.exit_code == 0, ran.output
    shown = runner.invoke(app, ["explain", "O2", "-w", path, "--format", "json", "--as-of", "2026-06-22"])
    assert shown.exit_code == 0, shown.output
    decision = json.loads(shown.output)
    assert (decision["tier"], decision["primary_partner_id"]) == ("sourced", "P1")
    assert "S1" in decision["rules"]


def test_the_same_message_submitted_twice_is_one_referral(ref_ws: Workspace) -> None:
    with at("2026-06-02T09:00:00Z"):
        first = service.submit_json(ref_ws, referral_json(company="Contoso"), "a.json", "u-ops")
    with at("2026-06-05T09:00:00Z"):
        again = service.submit_json(ref_ws, referral_json(company="Changed"), "b.json", "u-ops")
    assert first.created and not again.created
    assert again.referral.current == first.referral.current
    assert count(ref_ws, "SELECT count(*) FROM referrals") == 1


@pytest.mark.parametrize(
    ("domain", "kind", "ref_id"),
    [("northwind.com", "open_opportunity", "O1"), ("fabrikam.com", "direct_touch", "T1"),
     ("tailspin.com", "registration", "R1")],
)  # fmt: skip
def test_a_referral_on_a_worked_account_is_a_conflict_accepted_only_with_an_override(
    ref_ws: Workspace, domain: str, kind: str, ref_id: str
) -> None:
    with at("2026-06-02T09:00:00Z"):
        r = service.submit_json(
            ref_ws, referral_json(company="X", name="Jo Doe", email=f"jo@{domain}"), "c.json", "u-ops"
        ).referral
    assert r.current.status == "conflict"
    assert [(c.kind, c.ref_id) for c in r.conflicts] == [(kind, ref_id)]
    with at("2026-06-03T09:00:00Z"), pytest.raises(CosellError, match="is a channel conflict"):
        service.accept(ref_ws, POLICY, "REF-000001", by="u-ops")
    with at("2026-06-03T09:00:00Z"), pytest.raises(UsageError, match="needs --reason"):
        service.accept(ref_ws, POLICY, "REF-000001", by="u-ops", override_conflict=True)
    assert count(ref_ws, "SELECT count(*) FROM leads") == 0
    with at("2026-06-03T09:00:00Z"):
        done = service.accept(
            ref_ws, POLICY, "REF-000001", by="u-ops", override_conflict=True, reason="agreed with the AE"
        ).current
    assert (done.status, done.override_reason, done.lead_id) == (
        "accepted",
        "agreed with the AE",
        "REF-000001",
    )
    assert [c["ref_id"] for c in json.loads(done.conflicts_json)] == [ref_id]
    assert count(ref_ws, "SELECT count(*) FROM cur_leads WHERE lead_id = 'REF-000001'") == 1


def test_nothing_is_half_applied_when_accepting_fails(
    ref_ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    with at("2026-06-02T09:00:00Z"):
        service.submit_json(
            ref_ws, referral_json(company="Contoso", name="Dana", email="d@contoso.com"), "x", "u-ops"
        )

    def broken(*args: object) -> None:
        raise CosellError("the intake failed")

    monkeypatch.setattr(service, "run_intake", broken)
    with at("2026-06-03T09:00:00Z"), pytest.raises(CosellError, match="the intake failed"):
        service.accept(ref_ws, POLICY, "REF-000001", by="u-ops")
    assert count(ref_ws, "SELECT count(*) FROM leads") == 0
    assert count(ref_ws, "SELECT count(*) FROM imports") == 1  # the fixture's own
    assert service.referral(ref_ws, "REF-000001").current.status == "open"


def test_reject_needs_a_reason_and_ends_the_referral(ref_ws: Workspace) -> None:
    with at("2026-06-02T09:00:00Z"):
        service.submit_json(ref_ws, referral_json(company="Contoso"), "x", "u-ops")
    with pytest.raises(UsageError, match="say why"):
        service.reject(ref_ws, "REF-000001", by="u-ops", reason=" ")
    with at("2026-06-03T09:00:00Z"):
        done = service.reject(ref_ws, "REF-000001", by="u-ops", reason="duplicate of a CRM lead").current
    assert (done.status, done.version, done.reason) == ("rejected", 2, "duplicate of a CRM lead")
    with pytest.raises(CosellError, match="was rejected by u-ops at 2026-06-03T09:00:00Z"):
        service.answer(ref_ws, "REF-000001", by="u-ops", name="Dana")
    with pytest.raises(CosellError, match="was rejected"):
        service.accept(ref_ws, POLICY, "REF-000001", by="u-ops")


def test_who_may_do_what(ref_ws: Workspace) -> None:
    with at("2026-06-02T09:00:00Z"):
        with pytest.raises(NotAllowed, match="u-ae has the role ae"):
            service.submit_json(ref_ws, referral_json(), "x", "u-ae")
        # A partner user's referral from no known address is its own partner's.
        parsed = ParsedReferral("portal", "form-7", None, prospect_company="Contoso")
        mine = service.submit_parsed(ref_ws, parsed, "u-p1").referral.current
        assert (mine.partner_id, mine.partner_method, mine.received_at_given) == ("P1", "submitted_by", False)
        assert format_instant(mine.received_at) == "2026-06-02T09:00:00Z"
        # ... and it may not submit another partner's.
        other = ParsedReferral("api", "x-2", None, sender_emails=("someone@beta.io",))
        with pytest.raises(NotAllowed, match="works for partner P1"):
            service.submit_parsed(ref_ws, other, "u-p1")
        with pytest.raises(NotAllowed):
            service.accept(ref_ws, POLICY, mine.referral_id, by="u-p1")


def test_an_unknown_partner_is_missing_and_can_be_answered(ref_ws: Workspace) -> None:
    with at("2026-06-02T09:00:00Z"):
        r = service.submit_parsed(
            ref_ws,
            ParsedReferral("api", "z", None, sender_emails=("x@gmail.com",), prospect_company="Contoso",
                           prospect_name="Dana", prospect_email="dana@contoso.com"),
            "u-ops",
        ).referral.current  # fmt: skip
    assert (r.status, r.missing, r.partner_method) == ("needs_info", ("partner",), "none")
    assert "x@gmail.com (free mail)" in r.partner_evidence
    assert r.follow_up.startswith("To: x@gmail.com\n")
    with at("2026-06-03T09:00:00Z"):
        done = service.answer(ref_ws, r.referral_id, by="u-ops", partner_id="P2").current
    assert (done.status, done.partner_id, done.partner_method) == ("open", "P2", "answered")


@pytest.mark.parametrize(
    ("email", "refusal"),
    [("rita@ourco.com", "is on our own domain ourco.com"),
     ("sue@sales.alpha-partners.com", "is on partner P1's own domain alpha-partners.com"),
     ("jo doe@contoso.com", "is not an email address"),
     ("jo@contoso.com, al@contoso.com", "is not an email address")],
)  # fmt: skip
def test_an_answered_email_is_an_address_outside_us_and_the_partner(
    ref_ws: Workspace, email: str, refusal: str
) -> None:
    # Found by fuzzing referrals answer: --email rita@ourco.com (our own colleague) or two
    # addresses in one made the referral "open", where the same address in a message is dropped.
    with at("2026-06-02T09:00:00Z"):
        r = service.submit_json(ref_ws, referral_json(company="Contoso", name="Jo Doe"), "r.json", "u-ops")
    assert r.referral.current.missing == ("prospect_email",)
    with at("2026-06-02T10:00:00Z"), pytest.raises(UsageError, match=refusal):
        service.answer(ref_ws, "REF-000001", by="u-ops", email=email)
    assert count(ref_ws, "SELECT count(*) FROM referrals") == 1  # no new version
    with at("2026-06-02T10:00:00Z"):
        done = service.answer(ref_ws, "REF-000001", by="u-ops", email="jo@contoso.com").current
    assert (done.status, done.prospect_email) == ("open", "jo@contoso.com")


def test_json_errors_name_the_field(ref_ws: Workspace) -> None:
    bad = {"source_ref": "a", "prospect": {"email": "bob@"}}
    with pytest.raises(InputError, match=r'r.json, prospect.email: "bob@" is not an email address'):
        service.submit_json(ref_ws, json.dumps(bad).encode(), "r.json", "u-ops")
    with pytest.raises(InputError, match=r"r.json, prospect.phone: is not a prospect field"):
        service.submit_json(ref_ws, b'{"source_ref": "a", "prospect": {"phone": "1"}}', "r.json", "u-ops")
    with pytest.raises(InputError, match=r"r.json, source_ref: is required"):
        service.submit_json(ref_ws, b"{}", "r.json", "u-ops")
    with pytest.raises(InputError, match=r"r.json: is not JSON: Expecting value at line 1, column 1"):
        service.submit_json(ref_ws, b"nope", "r.json", "u-ops")
    # Found by fuzzing: JSON nested deeper than Python's reader goes raised RecursionError.
    with pytest.raises(InputError, match=r"r.json: is not JSON: nested too deeply"):
        service.submit_json(ref_ws, b"[" * 100_000 + b"]" * 100_000, "r.json", "u-ops")
    assert count(ref_ws, "SELECT count(*) FROM referrals") == 0


def test_a_referral_received_after_now_is_refused_not_checked_at_a_future_instant(
    ref_ws: Workspace,
) -> None:
    # Found by fuzzing referrals submit: received_at a year ahead put the direct touch T1 on
    # Fabrikam outside a lookback that ended next year, so the referral was "open", not a conflict.
    doc = json.loads(referral_json("ahead", company="Fabrikam", name="Fay Doe", email="fay@fabrikam.com"))
    doc["received_at"] = "2027-06-01T00:00:00Z"
    with at("2026-06-02T09:00:00Z"), pytest.raises(UsageError) as refused:
        service.submit_json(ref_ws, json.dumps(doc).encode(), "r.json", "u-ops")
    assert str(refused.value) == (
        "api referral ahead: received_at 2027-06-01T00:00:00Z is after now (2026-06-02T09:00:00Z): "
        "a referral is received before it is recorded"
    )
    assert count(ref_ws, "SELECT count(*) FROM referrals") == 0
    doc["received_at"] = "2026-06-02T09:00:00Z"  # at now itself: received, then recorded
    with at("2026-06-02T09:00:00Z"):
        r = service.submit_json(ref_ws, json.dumps(doc).encode(), "r.json", "u-ops").referral
    assert r.current.status == "conflict"
    assert [(c.kind, c.ref_id) for c in r.conflicts] == [("direct_touch", "T1")]


def test_accept_matches_the_account_again_and_sees_a_deal_imported_since(
    ref_ws: Workspace, tmp_path: Path
) -> None:
    with at("2026-06-02T09:00:00Z"):
        r = service.submit_json(
            ref_ws, referral_json(company="Wingtip", name="Wes", email="wes@wingtip.com"), "w.json", "u-ops"
        ).referral.current
    assert (r.status, r.account_id, r.account_method) == ("open", "", "none")
    # The CRM then brings the account, with a deal its rep opened before the partner wrote.
    data = {
        "accounts": [{"account_id": "A9", "name": "Wingtip Toys", "domain": "wingtip.com"}],
        "opportunities": [{"opportunity_id": "O9", "account_id": "A9", "created_at": "2026-05-20",
                           "amount": "100.00", "stage": "Discovery"}],
    }  # fmt: skip
    with at("2026-06-03T00:00:00Z"):
        import_canonical(ref_ws, write_tables(tmp_path / "later", data), partial=True)
    with at("2026-06-04T00:00:00Z"), pytest.raises(CosellError, match=r"opportunity O9 .* is open"):
        service.accept(ref_ws, POLICY, r.referral_id, by="u-ops")
