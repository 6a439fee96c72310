"""Deal registrations on the small workspace of :mod:`.world`: submit, approve, reject, extend,
expire, first in first win, conflicts and their override."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cosell.cli.app import app
from cosell.data.load import import_canonical
from cosell.errors import CosellError, NotAllowed, UsageError
from cosell.instants import format_instant
from cosell.policy import Policy
from cosell.service import registrations as service
from cosell.store.workspace import Workspace

from .world import at, write_tables

POLICY = Policy()


def last_import(ws: Workspace) -> tuple[str, str, str]:
    """Who, what and why the newest import recorded (a registration change is an import)."""
    row = ws.con.execute(
        "SELECT by_user, source, reason FROM imports ORDER BY import_id DESC LIMIT 1"
    ).fetchone()
    assert row is not None
    return (str(row[0]), str(row[1]), str(row[2]))


def test_submit_approve_extend_expire(ref_ws: Workspace) -> None:
    with at("2026-06-02T09:00:00Z"):
        r = service.submit(
            ref_ws, POLICY, partner_id="P1", account_id="A2", by="u-ops", reason="email from Ann"
        )
    assert (r.row.registration_id, r.row.status, format_instant(r.row.registered_at)) == (
        "REG-000001", "pending", "2026-06-02T09:00:00Z",
    )  # fmt: skip
    assert r.conflicts == () and [e.action for e in r.events] == ["submitted"]
    assert last_import(ref_ws) == (
        "u-ops", "cosell registrations submit REG-000001: email from Ann", "email from Ann"
    )  # fmt: skip

    with at("2026-06-03T10:00:00Z"):
        r = service.approve(ref_ws, POLICY, "REG-000001", by="u-ops", reason="checked")
    assert (r.row.status, format_instant(r.row.approved_at or r.row.registered_at)) == (
        "approved",
        "2026-06-03T10:00:00Z",
    )
    # The protection runs from registration: 2026-06-02T09:00 + 90 days.
    assert format_instant(r.row.expires_at or r.row.registered_at) == "2026-08-31T09:00:00Z"
    assert (r.changed_by, r.change) == ("u-ops", "cosell registrations approve REG-000001: checked")
    assert last_import(ref_ws)[2] == "checked"

    with at("2026-08-01T00:00:00Z"):
        r = service.extend(ref_ws, POLICY, "REG-000001", by="u-ops", reason="deal in legal")
        assert format_instant(r.row.expires_at or r.row.registered_at) == "2026-09-30T09:00:00Z"
        with pytest.raises(CosellError, match=r"was extended already .* one 30-day extension only"):
            service.extend(ref_ws, POLICY, "REG-000001", by="u-ops", reason="again")

    # A microsecond before the end nothing is due; at the end both REG-000001 and the CRM's R1
    # (approved 2026-05-15, no expires_at: +90 days = 2026-08-13) are.
    with at("2026-09-30T08:59:59.999999Z"):
        assert [
            x.row.registration_id for x in service.expire(ref_ws, POLICY, by="u-ops", reason="sweep")
        ] == ["R1"]
    r1 = service.registration(ref_ws, POLICY, "R1")
    assert (r1.row.status, format_instant(r1.row.expires_at or r1.row.registered_at)) == (
        "expired",
        "2026-08-13T00:00:00Z",
    )
    with at("2026-09-30T09:00:00Z"):
        assert [
            x.row.registration_id for x in service.expire(ref_ws, POLICY, by="u-ops", reason="sweep")
        ] == ["REG-000001"]
        assert (
            service.expire(ref_ws, POLICY, by="u-ops", reason="sweep") == []
        )  # nothing more: nothing recorded
    done = service.registration(ref_ws, POLICY, "REG-000001")
    assert [e.action for e in done.events] == ["submitted", "approved", "extended", "expired"]
    assert done.row.status == "expired"


def test_a_conflict_is_approved_only_with_an_override_and_its_reason(ref_ws: Workspace) -> None:
    # A4 is protected by P2's R1 (approved 2026-05-15).
    with at("2026-06-02T09:00:00Z"):
        r = service.submit(ref_ws, POLICY, partner_id="P1", account_id="A4", by="u-ops")
    assert [(c.kind, c.ref_id) for c in r.conflicts] == [("registration", "R1")]
    with at("2026-06-03T09:00:00Z"):
        with pytest.raises(CosellError, match=r"is a channel conflict .*R1"):
            service.approve(ref_ws, POLICY, r.row.registration_id, by="u-ops")
        with pytest.raises(UsageError, match="needs --reason"):
            service.approve(ref_ws, POLICY, r.row.registration_id, by="u-ops", override_conflict=True)
        assert service.registration(ref_ws, POLICY, r.row.registration_id).row.status == "pending"
        done = service.approve(ref_ws, POLICY, r.row.registration_id, by="u-ops", override_conflict=True,
                               reason="P2 withdrew by phone")  # fmt: skip
    approved = done.events[-1]
    assert (done.row.status, approved.overridden, approved.reason) == (
        "approved",
        True,
        "P2 withdrew by phone",
    )
    assert [c["ref_id"] for c in json.loads(approved.conflicts_json)] == ["R1"]
    # With no conflict there is nothing to override.
    with at("2026-06-04T09:00:00Z"):
        clean = service.submit(ref_ws, POLICY, partner_id="P1", account_id="A2", by="u-ops")
        with pytest.raises(UsageError, match="no channel conflict to override"):
            service.approve(
                ref_ws, POLICY, clean.row.registration_id, by="u-ops", override_conflict=True, reason="x"
            )


def test_first_in_first_win_on_instants(ref_ws: Workspace) -> None:
    t = datetime(2026, 6, 2, 9, tzinfo=UTC)
    with at("2026-06-03T00:00:00Z"):
        first = service.submit(ref_ws, POLICY, partner_id="P2", account_id="A2", by="u-ops", registered_at=t)
        second = service.submit(
            ref_ws,
            POLICY,
            partner_id="P1",
            account_id="A2",
            by="u-ops",
            registered_at=t + timedelta(microseconds=1),
        )
    assert first.conflicts == ()
    assert [c.ref_id for c in second.conflicts] == [first.row.registration_id]
    # The same account registered again by the same partner while protected is refused.
    with at("2026-06-03T00:00:00Z"), pytest.raises(CosellError, match="already registered A2 in REG-000001"):
        service.submit(ref_ws, POLICY, partner_id="P2", account_id="A2", by="u-ops")


def test_a_tie_flags_both(ref_ws: Workspace) -> None:
    t = datetime(2026, 6, 2, 9, tzinfo=UTC)
    with at("2026-06-03T00:00:00Z"):
        a = service.submit(ref_ws, POLICY, partner_id="P2", account_id="A2", by="u-ops", registered_at=t)
        b = service.submit(ref_ws, POLICY, partner_id="P1", account_id="A2", by="u-ops", registered_at=t)
        assert [c.ref_id for c in b.conflicts] == [a.row.registration_id]
        # At approval the check runs again: now A's sees B's too.
        with pytest.raises(CosellError, match=f"channel conflict .*{b.row.registration_id}"):
            service.approve(ref_ws, POLICY, a.row.registration_id, by="u-ops")


def test_refusals(ref_ws: Workspace) -> None:
    with at("2026-06-02T09:00:00Z"):
        with pytest.raises(UsageError, match="is after now"):
            service.submit(ref_ws, POLICY, partner_id="P1", account_id="A2", by="u-ops",
                           registered_at=datetime(2026, 6, 3, tzinfo=UTC))  # fmt: skip
        mine = service.submit(ref_ws, POLICY, partner_id=None, account_id="A2", by="u-p1")
        assert mine.row.partner_id == "P1"
        with pytest.raises(NotAllowed, match="works for partner P1"):
            service.submit(ref_ws, POLICY, partner_id="P2", account_id="A3", by="u-p1")
        with pytest.raises(NotAllowed, match="u-p1 has the role partner"):
            service.approve(ref_ws, POLICY, mine.row.registration_id, by="u-p1")
        with pytest.raises(UsageError, match="say why"):
            service.reject(ref_ws, POLICY, mine.row.registration_id, by="u-ops", reason="")
        rejected = service.reject(ref_ws, POLICY, mine.row.registration_id, by="u-ops", reason="not a fit")
        assert rejected.row.status == "rejected"
        with pytest.raises(CosellError, match="is rejected: only a pending registration can be approved"):
            service.approve(ref_ws, POLICY, mine.row.registration_id, by="u-ops")
    # A pending registration whose window passed is expired, never approved.
    with at("2026-06-02T09:00:00Z"):
        late = service.submit(ref_ws, POLICY, partner_id="P2", account_id="A3", by="u-ops",
                              registered_at=datetime(2026, 1, 1, tzinfo=UTC))  # fmt: skip
        with pytest.raises(CosellError, match="protection window ended at 2026-04-01T00:00:00Z"):
            service.approve(ref_ws, POLICY, late.row.registration_id, by="u-ops")


def test_an_approved_registration_sources_the_first_deal_on_the_account(
    ref_ws: Workspace, tmp_path: Path
) -> None:
    with at("2026-06-02T09:00:00Z"):
        service.submit(ref_ws, POLICY, partner_id="P1", account_id="A2", by="u-ops")
    with at("2026-06-02T12:00:00Z"):
        service.approve(ref_ws, POLICY, "REG-000001", by="u-ops")
    deal = {"opportunity_id": "O2", "account_id": "A2", "created_at": "2026-06-10", "amount": "9000.00",
            "currency": "USD", "stage": "Discovery", "owner_id": "u-ae"}  # fmt: skip
    with at("2026-06-11T00:00:00Z"):
        import_canonical(ref_ws, write_tables(tmp_path / "deal", {"opportunities": [deal]}), partial=True)
    path = ref_ws.path
    ref_ws.close()
    runner = CliRunner()
    assert (
        runner.invoke(app, ["attribute", "-w", path, "--now", "2026-06-12", "--by", "u-ops"]).exit_code == 0
    )
    shown = runner.invoke(app, ["explain", "O2", "-w", path, "--format", "json", "--as-of", "2026-06-12"])
    decision = json.loads(shown.output)
    assert (decision["tier"], decision["primary_partner_id"], decision["rules"]) == ("sourced", "P1", ["S2"])


def test_a_pending_registration_that_lapses_never_becomes_evidence(ref_ws: Workspace) -> None:
    with at("2026-06-02T09:00:00Z"):
        late = service.submit(ref_ws, POLICY, partner_id="P2", account_id="A3", by="u-ops",
                              registered_at=datetime(2026, 1, 1, tzinfo=UTC))  # fmt: skip
        expired = {
            r.row.registration_id: r.row for r in service.expire(ref_ws, POLICY, by="u-ops", reason="sweep")
        }
    # Never approved: its expires_at is its registered_at, so SPEC's "expired with expires_at after
    # C" holds for no deal created at or after it registered.
    row = expired[late.row.registration_id]
    assert (row.status, row.expires_at, row.approved_at) == ("expired", row.registered_at, None)


def test_nothing_is_half_applied_when_a_change_fails(
    ref_ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object) -> None:
        raise CosellError("the event could not be written")

    monkeypatch.setattr(service, "insert_registration_event", broken)
    with at("2026-06-02T09:00:00Z"), pytest.raises(CosellError, match="could not be written"):
        service.submit(ref_ws, POLICY, partner_id="P1", account_id="A2", by="u-ops")
    counts = ref_ws.con.execute(
        "SELECT (SELECT count(*) FROM deal_registrations), (SELECT count(*) FROM imports), "
        "(SELECT count(*) FROM registration_events)"
    ).fetchone()
    assert counts == (1, 1, 0)  # the CRM's R1 and the fixture's import, nothing of the failed submit


def test_a_registration_change_is_not_dated_before_a_change_already_recorded(ref_ws: Workspace) -> None:
    # An attribution run recorded at 2026-07-01 read no registration of A3; a registration then
    # submitted with the clock at 2026-06-10 was stored as known from 2026-06-10, so re-reading
    # "as known at 2026-07-01" showed a registration that run never saw (found by fuzzing
    # registrations with --now). The same for every registration change, each naming --now.
    from cosell.asof import AsOf
    from cosell.service.attribution import attribute_and_store

    with at("2026-06-02T09:00:00Z"):
        service.submit(ref_ws, POLICY, partner_id="P1", account_id="A2", by="u-ops")
        service.submit(
            ref_ws, POLICY, partner_id="P1", account_id="A3", by="u-ops",
            registered_at=datetime(2026, 3, 1, tzinfo=UTC),
        )  # fmt: skip
    run_at = datetime(2026, 7, 1, tzinfo=UTC)
    when = AsOf(as_of=run_at, known_at=run_at)
    attribute_and_store(ref_ws, POLICY, when, "role_weighted", by_user="u-ops", reason="q2", run_at=run_at)
    before = ref_ws.con.execute(
        "SELECT (SELECT count(*) FROM deal_registrations), (SELECT count(*) FROM imports), "
        "(SELECT count(*) FROM registration_events)"
    ).fetchone()
    late = "at 2026-06-10T00:00:00Z is before the last recorded change, an attribution run at 2026-07-01T00:00:00Z: give --now"
    with at("2026-06-10T00:00:00Z"):
        with pytest.raises(CosellError, match="the submission of REG-000003 " + late):
            service.submit(ref_ws, POLICY, partner_id="P2", account_id="A3", by="u-ops")
        with pytest.raises(CosellError, match="the approval of REG-000001 " + late):
            service.approve(ref_ws, POLICY, "REG-000001", by="u-ops")
        with pytest.raises(CosellError, match="the rejection of REG-000001 " + late):
            service.reject(ref_ws, POLICY, "REG-000001", by="u-ops", reason="no")
        with pytest.raises(CosellError, match="the extension of R1 " + late):
            service.extend(ref_ws, POLICY, "R1", by="u-ops", reason="legal")
        # REG-000002, pending since 2026-03-01, lapsed at 2026-05-30: due for the sweep.
        with pytest.raises(CosellError, match="the expiry sweep " + late):
            service.expire(ref_ws, POLICY, by="u-ops", reason="sweep")
    after = ref_ws.con.execute(
        "SELECT (SELECT count(*) FROM deal_registrations), (SELECT count(*) FROM imports), "
        "(SELECT count(*) FROM registration_events)"
    ).fetchone()
    assert after == before
