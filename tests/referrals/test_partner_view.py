"""What a partner user may read (SPEC section 9): its own partner's referrals and registrations,
never another partner's, nor another partner's name or registration in a conflict."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cosell.cli.app import app
from cosell.errors import NotAllowed, NotFound
from cosell.policy import Policy
from cosell.referrals.parsed import ParsedReferral
from cosell.service import registrations
from cosell.service.referrals import submit_parsed
from cosell.store.workspace import Workspace

from .world import at


def read(path: Path, *args: str) -> tuple[int, str]:
    done = CliRunner().invoke(app, [*args, "--workspace", str(path)])
    return done.exit_code, done.output


def test_a_partner_user_reads_only_its_own(ref_ws: Workspace) -> None:
    beta = ParsedReferral(
        "api",
        "beta-1",
        datetime(2026, 6, 1, tzinfo=UTC),
        ("bo@beta.io",),
        prospect_company="Contoso",
        prospect_name="Dana",
        prospect_email="dana@contoso.com",
    )
    alpha = ParsedReferral(
        "api",
        "alpha-1",
        datetime(2026, 6, 1, tzinfo=UTC),
        ("ann@alpha-partners.com",),
        prospect_company="Contoso",
        prospect_name="Dana",
        prospect_email="dana@contoso.com",
    )
    with at("2026-06-02T09:00:00Z"):
        theirs = submit_parsed(ref_ws, beta, "u-ops").referral.current.referral_id
        mine = submit_parsed(ref_ws, alpha, "u-ops").referral.current.referral_id
        # P1 registers Tailspin, which P2's approved R1 protects: a conflict naming P2 and R1.
        reg = registrations.submit(ref_ws, Policy(), partner_id="P1", account_id="A4", by="u-p1")
    assert [c.ref_id for c in reg.conflicts] == ["R1"]
    path = Path(ref_ws.path)
    ref_ws.close()

    code, out = read(path, "referrals", "list", "--format", "json", "--by", "u-p1")
    assert code == 0 and [r["referral_id"] for r in json.loads(out)] == [mine]
    code, out = read(path, "referrals", "show", theirs, "--by", "u-p1")
    assert code == 1 and f"no referral {theirs}" in out
    code, out = read(path, "referrals", "show", theirs, "--by", "u-ops")
    assert code == 0 and "P2" in out

    rid = reg.row.registration_id
    code, out = read(path, "registrations", "list", "--format", "json", "--by", "u-p1")
    assert code == 0 and [r["registration_id"] for r in json.loads(out)] == [rid]
    code, out = read(path, "registrations", "show", rid, "--by", "u-p1")
    assert code == 0 and "another partner registered the account at 2026-05-15" in out
    assert "P2" not in out and "R1" not in out
    code, out = read(path, "registrations", "show", "R1", "--by", "u-p1")
    assert code == 1 and "no registration R1" in out
    code, out = read(path, "registrations", "show", rid, "--by", "u-ops")
    assert code == 0 and "P2" in out and "R1" in out


def _beta_referral(ref: str, company: str = "Tailspin Toys", domain: str = "tailspin.com") -> ParsedReferral:
    """A referral from P2 (Beta: beta.io) about an account of the world."""
    return ParsedReferral(
        "api",
        ref,
        datetime(2026, 6, 1, tzinfo=UTC),
        ("bo@beta.io",),
        prospect_company=company,
        prospect_name="Dana",
        prospect_email=f"dana@{domain}",
    )


def test_a_registration_shows_a_partner_user_no_other_partner_in_its_history(ref_ws: Workspace) -> None:
    """The conflicts recorded with each change (``events`` in the JSON) are read like the current
    ones: another partner's registration says when, never by whom or under which id."""
    with at("2026-06-02T09:00:00Z"):
        reg = registrations.submit(ref_ws, Policy(), partner_id=None, account_id="A4", by="u-p1")
    path = Path(ref_ws.path)
    ref_ws.close()
    rid = reg.row.registration_id
    for args in (("show", rid), ("list",)):
        code, out = read(path, "registrations", *args, "--format", "json", "--by", "u-p1")
        assert code == 0 and rid in out
        assert "P2" not in out and "R1" not in out and "Beta" not in out
        assert "another partner registered the account at 2026-05-15" in out
    code, out = read(path, "registrations", "show", rid, "--format", "json", "--by", "u-ops")
    assert code == 0 and json.loads(out)["events"][0]["conflicts"][0]["ref_id"] == "R1"


def test_a_partner_user_is_told_nothing_of_another_partners_referral(ref_ws: Workspace) -> None:
    """Another partner's referral or registration is, to a partner user, one that does not exist:
    in show, answer, accept and reject, with no did-you-mean naming another partner's id, no word of
    its status or partner, and nothing recorded."""
    with at("2026-06-02T09:00:00Z"):
        theirs = submit_parsed(ref_ws, _beta_referral("beta-1"), "u-ops").referral.current.referral_id
        decided = submit_parsed(ref_ws, _beta_referral("beta-2", "Contoso", "contoso.com"), "u-ops")
    path = Path(ref_ws.path)
    ref_ws.close()
    with at("2026-06-02T10:00:00Z"):
        code, out = read(path, "referrals", "reject", decided.referral.current.referral_id, "--by", "u-ops",
                         "--reason", "not a fit")  # fmt: skip
    assert code == 0
    before = path.read_bytes()
    near = theirs[:-1]  # REF-00000: one digit short of theirs
    for args in (
        ("referrals", "show", theirs, "--by", "u-p1"),
        ("referrals", "show", near, "--by", "u-p1"),
        ("referrals", "answer", theirs, "--name", "Dana Diaz", "--by", "u-p1"),
        ("referrals", "answer", near, "--name", "Dana Diaz", "--by", "u-p1"),
        ("referrals", "answer", decided.referral.current.referral_id, "--name", "D", "--by", "u-p1"),
        ("registrations", "show", "R", "--by", "u-p1"),
    ):
        code, out = read(path, *args)
        assert code == 1, (args, out)
        assert "P2" not in out and "did you mean" not in out and "rejected" not in out, (args, out)
        assert out.startswith(("error: no referral", "error: no registration")), (args, out)
    # accept and reject are not a partner user's to do: said whatever the referral.
    for verb in ("accept", "reject"):
        code, out = read(path, "referrals", verb, decided.referral.current.referral_id, "--by", "u-p1",
                         "--reason", "x")  # fmt: skip
        assert code == 1 and "u-p1 has the role partner" in out and "rejected by" not in out
    assert path.read_bytes() == before
    # Staff still get the did-you-mean over every referral.
    code, out = read(path, "referrals", "show", near, "--by", "u-ops")
    assert code == 1 and "did you mean REF-" in out


def test_a_partner_user_submitting_sees_only_what_it_may(ref_ws: Workspace) -> None:
    """A partner user's own new referral comes back with its conflicts as it may read them; the
    message of another partner's referral sent again is refused, not shown; and a user who may
    not submit is refused also when the message was submitted before."""
    mine = ParsedReferral(
        "api",
        "alpha-9",
        None,  # received when submitted: a partner user states no other instant
        ("ann@alpha-partners.com",),
        prospect_company="Tailspin Toys",
        prospect_name="Dana",
        prospect_email="dana@tailspin.com",
    )
    with at("2026-06-02T09:00:00Z"):
        done = submit_parsed(ref_ws, mine, "u-p1")
        assert [c.kind for c in done.referral.conflicts] == ["registration"]
        assert done.referral.conflicts[0].ref_id == "" and "P2" not in done.referral.conflicts[0].detail
        again = submit_parsed(ref_ws, mine, "u-p1")
        assert not again.created and again.referral.conflicts == done.referral.conflicts
        submit_parsed(ref_ws, _beta_referral("beta-1"), "u-ops")
        with pytest.raises(NotAllowed) as refused:
            submit_parsed(ref_ws, _beta_referral("beta-1"), "u-p1")
        assert "P2" not in str(refused.value) and "REF-" not in str(refused.value)
        for who, error in (("u-fin", NotAllowed), ("u-nobody", NotFound)):
            with pytest.raises(error):
                submit_parsed(ref_ws, _beta_referral("beta-1"), who)


def test_a_partner_user_refers_now_not_earlier(ref_ws: Workspace) -> None:
    """First in, first win: a partner user may not date its own referral back (before a deal the
    direct team opened, before another partner's registration); a message's date, which the
    partner writes too, is read as when it was submitted. Partner ops may date one, for a
    referral received another way."""

    def referral(channel: str, ref: str, received: datetime | None) -> ParsedReferral:
        return ParsedReferral(channel, ref, received, ("ann@alpha-partners.com",),
                              prospect_company="Tailspin Toys", prospect_name="Dana",
                              prospect_email="dana@tailspin.com")  # fmt: skip

    earlier, now = datetime(2026, 5, 1, tzinfo=UTC), datetime(2026, 6, 2, 9, tzinfo=UTC)
    with at("2026-06-02T09:00:00Z"):
        for channel in ("api", "portal"):
            with pytest.raises(
                NotAllowed, match=r"received now \(2026-06-02T09:00:00Z\), not at received_at"
            ):
                submit_parsed(ref_ws, referral(channel, f"{channel}-1", earlier), "u-p1")
        assert ref_ws.con.execute("SELECT count(*) FROM referrals").fetchone() == (0,)
        stated = submit_parsed(ref_ws, referral("api", "api-2", now), "u-p1").referral.current
        mailed = submit_parsed(ref_ws, referral("email", "<m@x>", earlier), "u-p1").referral.current
        ops = submit_parsed(ref_ws, referral("api", "api-3", earlier), "u-ops").referral.current
    assert (stated.received_at, stated.received_at_given) == (now, True)
    assert (mailed.received_at, mailed.received_at_given) == (now, False)
    assert (ops.received_at, ops.received_at_given) == (earlier, True)


def test_a_partner_user_registers_now_not_earlier(ref_ws: Workspace) -> None:
    """First in, first win: a partner user may not date its own registration back (before another
    partner's, which its approver would then not see as a conflict); partner ops may, for a
    registration received another way."""
    earlier = datetime(2026, 5, 1, tzinfo=UTC)
    with at("2026-06-02T09:00:00Z"):
        with pytest.raises(
            NotAllowed, match=r"registered now \(2026-06-02T09:00:00Z\), not at --registered-at"
        ):
            registrations.submit(
                ref_ws, Policy(), partner_id=None, account_id="A4", by="u-p1", registered_at=earlier
            )
        assert registrations.registrations(ref_ws, Policy(), partner_id="P1") == []
        by_ops = registrations.submit(
            ref_ws, Policy(), partner_id="P1", account_id="A4", by="u-ops", registered_at=earlier
        )
    assert by_ops.row.registered_at == earlier


def test_a_registration_links_only_a_deal_on_its_account(ref_ws: Workspace) -> None:
    """A registration linked to a deal puts its partner on that deal, where a partner user may then
    dispute it: a deal on another account, or no deal at all, is refused in the same words (naming
    --opportunity, not an internal file), with nothing recorded."""
    with at("2026-06-02T09:00:00Z"):
        for deal in ("O1", "O-NONE"):
            with pytest.raises(NotFound, match=f"^--opportunity {deal}: no deal on account A2 has that id$"):
                registrations.submit(
                    ref_ws, Policy(), partner_id=None, account_id="A2", by="u-p1", opportunity_id=deal
                )
        assert registrations.registrations(ref_ws, Policy(), partner_id="P1") == []
        linked = registrations.submit(
            ref_ws, Policy(), partner_id=None, account_id="A1", by="u-p1", opportunity_id="O1"
        )
    assert linked.row.opportunity_id == "O1"


def test_an_expiry_sweep_shows_a_partner_user_only_its_own_registration(ref_ws: Workspace) -> None:
    """Found by fuzzing ``registrations expire``: the sweep logs up to three registration ids in one
    change line, and a partner user's ``list``/``show`` printed another partner's id from it."""
    march = datetime(2026, 3, 1, tzinfo=UTC)
    with at("2026-06-02T09:00:00Z"):
        mine = registrations.submit(ref_ws, Policy(), partner_id="P1", account_id="A2", by="u-ops",
                                    registered_at=march)  # fmt: skip
        other = registrations.submit(ref_ws, Policy(), partner_id="P2", account_id="A3", by="u-ops",
                                     registered_at=march)  # fmt: skip
    with at("2026-06-03T09:00:00Z"):
        swept = registrations.expire(ref_ws, Policy(), by="u-ops", reason="weekly sweep")
    assert {r.row.registration_id for r in swept} == {mine.row.registration_id, other.row.registration_id}
    path = Path(ref_ws.path)
    ref_ws.close()
    own, others = mine.row.registration_id, other.row.registration_id
    for args in (("show", own), ("show", own, "--format", "json"), ("list",), ("list", "--format", "json")):
        code, out = read(path, "registrations", *args, "--by", "u-p1")
        assert code == 0 and own in out, out
        assert others not in out and "P2" not in out
    code, out = read(path, "registrations", "show", own, "--format", "json", "--by", "u-p1")
    assert json.loads(out)["change"] == f"cosell registrations expire {own}: weekly sweep"
    code, out = read(path, "registrations", "show", own, "--format", "json", "--by", "u-ops")
    assert json.loads(out)["change"] == f"cosell registrations expire {own}, {others}: weekly sweep"


@pytest.mark.parametrize("role", ["ae", ""], ids=["mapped-to-ae", "no-role"])
def test_a_user_with_a_partner_id_reads_only_its_partners_whatever_its_role(
    ref_ws: Workspace, tmp_path: Path, role: str
) -> None:
    """A CRM's partner user mapped to another role, or to none (a HubSpot owner with its partner
    company, a Salesforce partner user whose profile maps to ae), works for its partner: it reads
    only that partner's referrals and registrations, not every one as our own people do."""
    from cosell.data.load import import_canonical

    folder = tmp_path / "users"
    folder.mkdir()
    (folder / "users.csv").write_text(
        f"user_id,name,email,role,partner_id\nu-p1x,Pia,pia@alpha.io,{role},P1\n"
    )
    with at("2026-06-02T09:00:00Z"):
        import_canonical(ref_ws, folder, partial=True)
        theirs = submit_parsed(ref_ws, _beta_referral("beta-9"), "u-ops").referral.current.referral_id
        mine = registrations.submit(ref_ws, Policy(), partner_id="P1", account_id="A4", by="u-p1")
    path = Path(ref_ws.path)
    ref_ws.close()
    code, out = read(path, "referrals", "list", "--format", "json", "--by", "u-p1x")
    assert code == 0 and theirs not in out and json.loads(out) == []
    code, out = read(path, "referrals", "show", theirs, "--by", "u-p1x")
    assert code == 1 and f"no referral {theirs}" in out
    code, out = read(path, "registrations", "list", "--format", "json", "--by", "u-p1x")
    assert code == 0 and [r["registration_id"] for r in json.loads(out)] == [mine.row.registration_id]
