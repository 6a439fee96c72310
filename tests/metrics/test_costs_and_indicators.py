"""Costs (quarter and month rows, incentives from the pay ledger) and the QBR's leading indicators."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest
from metrics_support import AS_OF, Book, t

from cosell.errors import InputError
from cosell.metrics.context import open_metrics
from cosell.metrics.costs import period_costs
from cosell.metrics.indicators import ae_adoption, new_partner_leads, partner_engagement
from cosell.metrics.league import league
from cosell.policy import Policy
from cosell.reports.qbr import build_qbr
from cosell.store.ledger import LEDGER_ENTRIES
from cosell.store.workspace import Workspace


def ledger(ws: Workspace, *entries: tuple[str, str, str, str, str]) -> None:
    """Partner and rep entries in the pay ledger (posted_at, recorded_at, party_kind, kind, amount),
    written through the ledger's own sealed insert."""
    ws.con.execute(f"CREATE TEMP TABLE staged ({', '.join(f'{c} {ty}' for c, ty in LEDGER_ENTRIES.columns)})")
    for i, (posted, recorded, party_kind, kind, amount) in enumerate(entries):
        at = t(posted)
        values = {
            "entry_id": f"E{i}", "idempotency_key": f"K{i}", "posted_at": at, "recorded_at": t(recorded),
            "period": at.strftime("%Y-%m"), "posting_id": 1, "party_kind": party_kind, "party_id": "X",
            "kind": kind, "amount": Decimal(amount), "currency": "USD", "basis": "test", "by_user": "tester",
            "reason": "test",
        }  # fmt: skip
        cols = LEDGER_ENTRIES.column_names
        ws.con.execute(
            f"INSERT INTO staged VALUES ({', '.join('?' for _ in cols)})", [values.get(c) for c in cols]
        )
    ws.con.execute("BEGIN TRANSACTION")
    LEDGER_ENTRIES.insert(ws.con, "staged")
    ws.con.execute("COMMIT")


def test_quarter_costs_take_the_quarter_and_its_months_and_a_month_its_own() -> None:
    ws = (
        Book()
        .deal("Z1", "2020-01-01", "1.00")  # reports need an attribution run
        .program_cost("2026-Q3", "headcount", "1000")
        .program_cost("2026-07", "tech", "10.5")
        .program_cost("2026-09", "tech", "20")
        .program_cost("2026-10", "tech", "999")  # next quarter
        .direct_cost("2026-08", "300")
        .save()
    )
    m = open_metrics(ws.con, Policy(), AS_OF)
    q3 = period_costs(m.facts, m.period("2026-Q3"))
    assert q3.program == Decimal("1030.5") and q3.program_rows == 3
    assert q3.by_category == (("headcount", Decimal("1000")), ("tech", Decimal("30.5")))
    assert q3.direct == Decimal("300") and q3.incentives_from_ledger is None
    july = period_costs(m.facts, m.period("2026-07"))
    assert (july.program, july.direct) == (Decimal("10.5"), None)
    assert period_costs(m.facts, m.period("2026-Q1")).program is None


def test_incentives_come_from_partner_ledger_entries_when_program_costs_have_none() -> None:
    ws = (
        Book()
        .deal("Z1", "2020-01-01", "1.00")
        .program_cost("2026-Q3", "headcount", "1000")
        .program_cost("2026-Q2", "incentives", "5")
        .save()
    )
    ledger(
        ws,
        ("2026-07-31T10:00:00Z", "2026-07-31T10:00:00Z", "partner", "partner_payout", "120.00"),
        ("2026-09-30T23:59:59Z", "2026-09-30T23:59:59Z", "partner", "bonus", "30.00"),
        ("2026-08-02T00:00:00Z", "2026-08-02T00:00:00Z", "partner", "reversal", "-20.00"),
        ("2026-08-03T00:00:00Z", "2026-08-03T00:00:00Z", "partner", "payment", "-500.00"),  # cash, not a cost
        ("2026-08-04T00:00:00Z", "2026-08-04T00:00:00Z", "rep", "rep_commission", "70.00"),  # not the program
        ("2026-10-01T00:00:00Z", "2026-10-01T00:00:00Z", "partner", "partner_payout", "999.00"),  # Q4
        # dated in Q3 but written after the as-of instant: not known then
        ("2026-09-30T23:59:59.999999Z", "2026-11-02T00:00:00Z", "partner", "partner_payout", "888.00"),
    )
    m = open_metrics(ws.con, Policy(), AS_OF)
    q3 = period_costs(m.facts, m.period("2026-Q3"))
    assert q3.incentives_from_ledger == Decimal("130.00") and q3.ledger_entries == 3
    assert q3.program == Decimal("1130.00")
    assert dict(q3.by_category)["incentives"] == Decimal("130.00")
    # With an incentives row of its own, the ledger is not read.
    q2 = period_costs(m.facts, m.period("2026-Q2"))
    assert (q2.program, q2.incentives_from_ledger) == (Decimal("5"), None)
    # A quarter with no program cost row still gets the ledger's payouts as its (only) cost.
    q4 = period_costs(m.facts, m.period("2026-Q4"))
    assert (q4.program, q4.ledger_entries) == (Decimal("999.00"), 1)


def test_ledger_incentives_posted_after_the_as_of_instant_are_not_yet_a_cost() -> None:
    # A report standing at T (--as-of) before K (--known-at) counted every entry known at K and
    # dated in the period, also those posted after T: as of 2026-08-15, the payout posted on
    # 2026-09-30 for a deal still open on 2026-08-15 was a Q3 cost while the deal's revenue was not
    # yet revenue. An entry counts from its posted_at on (found by fuzzing the QBR with --as-of).
    ws = Book().deal("Z1", "2020-01-01", "1.00").program_cost("2026-Q3", "headcount", "1000").save()
    ledger(
        ws,
        ("2026-07-31T23:59:59.999999Z", "2026-10-01T00:00:00Z", "partner", "partner_payout", "120.00"),
        ("2026-08-15T00:00:00Z", "2026-08-15T00:00:00Z", "partner", "bonus", "5.00"),  # at T: counts
        ("2026-09-30T23:59:59.999999Z", "2026-10-01T00:00:00Z", "partner", "partner_payout", "888.00"),
    )
    m = open_metrics(ws.con, Policy(), AS_OF)
    assert period_costs(m.facts, m.period("2026-Q3")).incentives_from_ledger == Decimal("1013.00")
    at_t = replace(m.facts, as_of=t("2026-08-15"))  # evaluated as of T with everything known at K
    q3 = period_costs(at_t, m.period("2026-Q3"))
    assert (q3.incentives_from_ledger, q3.ledger_entries, q3.program) == (
        Decimal("125.00"), 2, Decimal("1125.00"))  # fmt: skip
    september = period_costs(at_t, m.period("2026-09"))
    assert (september.program, september.ledger_entries) == (None, 0)


def test_new_partner_leads_count_leads_with_a_partner_created_in_the_period() -> None:
    ws = (
        Book()
        .deal("Z1", "2020-01-01", "1.00")
        .rows(
            "leads",
            {"lead_id": "L1", "created_at": t("2026-07-01"), "partner_id": "P1"},
            {"lead_id": "L2", "created_at": t("2026-09-30T23:59:59Z"), "partner_id": "P2"},
            {"lead_id": "L3", "created_at": t("2026-08-01"), "source": "inbound"},
            {"lead_id": "L4", "created_at": t("2026-10-01"), "partner_id": "P1"},
        )
        .save()
    )
    m = open_metrics(ws.con, Policy(), AS_OF)
    assert new_partner_leads(m.facts, m.period("2026-Q3")) == 2
    assert new_partner_leads(m.facts, m.period("2026-10")) == 1


def _adoption_book() -> Book:
    b = Book()
    for opp in ("D1", "D2", "D3", "D4", "D5"):
        b.won(opp, "2026-07-01", "2026-08-01", "100.00")
    b.lost("D6", "2026-07-01", "2026-09-01", "100.00")
    b.won("D7", "2026-07-01", "2026-10-05", "100.00")  # closes in Q4
    b.rows(
        "users",
        {"user_id": "U1", "name": "Ann", "role": "ae"},
        {"user_id": "U2", "name": "Integration", "role": "admin"},
        {"user_id": "U3", "name": "Ops", "role": "partner_ops"},
    )

    def change(opp: str, value: str, at: str, by: str) -> dict[str, object]:
        return {
            "opportunity_id": opp,
            "field": "partner_source",
            "new_value": value,
            "changed_at": t(at),
            "changed_by": by,
        }

    b.rows(
        "field_history",
        change("D1", "sourced", "2026-07-10", "U1"),  # a rep before close: counts
        change("D2", "none", "2026-07-10", "U2"),  # the integration account: does not count
        change("D3", "influenced", "2026-08-02", "U1"),  # after close: does not count
        change("D4", "influenced", "2026-07-10", "U2"),  # system first ...
        change("D4", "sourced", "2026-07-20", "U3"),  # ... then partner ops confirms: counts
        change("D5", "sourced", "2026-07-10", "U1"),  # a rep ...
        change("D5", "sourced", "2026-07-30", "U2"),  # ... overwritten by the integration: does not count
        change("D6", "none", "2026-09-01", "U1"),  # at the close instant: counts
    )
    return b


def test_ae_adoption_counts_a_person_confirming_partner_source_before_close() -> None:
    ws = _adoption_book().save()
    m = open_metrics(ws.con, Policy(), AS_OF)
    adoption = ae_adoption(m.facts, m.period("2026-Q3"))
    assert (adoption.closed, adoption.confirmed, adoption.measurable) == (6, 3, True)


def test_ae_adoption_without_field_history_is_not_measurable() -> None:
    ws = Book().won("D1", "2026-07-01", "2026-08-01", "1.00").save()
    m = open_metrics(ws.con, Policy(), AS_OF)
    assert ae_adoption(m.facts, m.period("2026-Q3")).measurable is False


def touch(tid: str, at: str, **kw: object) -> dict[str, object]:
    """A partner intro on account A1 at ``at``, with the cells of ``kw``."""
    return {
        "touch_id": tid,
        "occurred_at": t(at),
        "account_id": "A1",
        "actor": "partner",
        "kind": "intro",
        **kw,
    }


def test_engagement_frequency_is_partner_touches_per_active_partner_per_month() -> None:
    ws = (
        Book()
        .deal("Z1", "2020-01-01", "1.00")
        .rows("partner_contacts", {"contact_id": "C9", "partner_id": "P2"})
        .rows(
            "touches",
            touch("T1", "2026-07-01", partner_id="P1"),
            touch("T2", "2026-08-01", partner_id="P1"),
            touch("T3", "2026-09-01", partner_contact_id="C9"),  # P2 through its contact
            touch("T4", "2026-09-02", partner_id="P1", kind="internal_note"),  # not engagement
            touch("T5", "2026-09-03", partner_id="P3", actor="direct", kind="outbound_call"),
            touch("T6", "2026-10-01", partner_id="P4"),  # next quarter
            touch("T7", "2026-09-04"),  # no partner to resolve
        )
        .save()
    )
    m = open_metrics(ws.con, Policy(), AS_OF)
    e = partner_engagement(m.facts, m.period("2026-Q3"))
    assert (e.touches, e.partners, e.months) == (3, 2, 3)
    assert e.per_partner_per_month == Decimal(3) / Decimal(2) / Decimal(3)
    assert partner_engagement(m.facts, m.period("2026-Q1")).per_partner_per_month is None


def test_leads_and_touches_after_the_as_of_instant_are_not_counted_yet() -> None:
    # The QBR as of T (mid-quarter, --as-of) counted the quarter's partner leads and touches made
    # after T, which the same report leaves out for deals: as of 2026-08-15 a lead of 2026-09-01
    # was a "new partner-sourced lead" of Q3. Leads and touches now count up to T, T included
    # (found by fuzzing the QBR with --as-of).
    ws = (
        Book()
        .deal("Z1", "2020-01-01", "1.00")
        .rows(
            "leads",
            {"lead_id": "L1", "created_at": t("2026-07-01"), "partner_id": "P1"},
            {"lead_id": "L2", "created_at": t("2026-08-15"), "partner_id": "P2"},
            {"lead_id": "L3", "created_at": t("2026-09-01"), "partner_id": "P2"},
        )
        .rows(
            "touches",
            touch("T1", "2026-07-02", partner_id="P1"),
            touch("T2", "2026-08-15", partner_id="P1"),
            touch("T3", "2026-08-15T00:00:00.000001Z", partner_id="P2"),
        )
        .save()
    )
    m = open_metrics(ws.con, Policy(), AS_OF)
    q3 = m.period("2026-Q3")
    assert new_partner_leads(m.facts, q3) == 3
    assert (partner_engagement(m.facts, q3).touches, partner_engagement(m.facts, q3).partners) == (3, 2)
    at_t = replace(m.facts, as_of=t("2026-08-15"))  # evaluated as of T with everything known at K
    assert new_partner_leads(at_t, q3) == 2
    e = partner_engagement(at_t, q3)
    assert (e.touches, e.partners) == (2, 1)


def test_league_credits_in_workspace_currency_by_tier_with_win_rate_and_cycle() -> None:
    ws = (
        Book()
        .won("S1", "2026-07-01", "2026-07-31", "1000.00", "sourced",
             credits=(("P1", "sourcer", "0.800000", "800.00"), ("P2", "influencer", "0.200000", "200.00")))
        .won("A1", "2026-07-01", "2026-08-20", "500.00", "accelerated", currency="EUR",
             credits=(("P2", "influencer", "1.000000", "500.00"),))
        .lost("I1", "2026-07-01", "2026-09-01", "300.00", "influenced", credits=(("P1", "influencer", "1.000000", "300.00"),))
        .won("I2", "2026-01-01", "2026-06-30", "900.00", "influenced", credits=(("P1", "influencer", "1.000000", "900.00"),))
        .fx("EUR", "2026-08", "1.111")
        .rows("partners", {"partner_id": "P1", "name": "Acme", "partner_type": "referral"},
              {"partner_id": "P2", "name": "Bolt", "partner_type": "co_sell", "program_tier": "gold"})
        .save()
    )  # fmt: skip
    m = open_metrics(ws.con, Policy(), AS_OF)
    lines = league(m.facts, m.period("2026-Q3"))
    assert [(x.partner_id, x.name, x.sourced, x.accelerated, x.influenced, x.won, x.lost) for x in lines] == [
        ("P1", "Acme", Decimal("800.00"), Decimal("0.00"), Decimal("0.00"), 1, 1),
        ("P2", "Bolt", Decimal("200.00"), Decimal("555.50"), Decimal("0.00"), 2, 0),  # 500 EUR x 1.111
    ]
    assert lines[0].median_days == Decimal(30)
    assert lines[1].median_days == Decimal(40)  # won after 30 and 50 days
    assert lines[1].credited == Decimal("755.50")


def test_league_names_a_missing_close_month_rate() -> None:
    ws = (
        Book()
        .won("A1", "2026-07-01", "2026-08-20", "500.00", "accelerated", currency="EUR",
             credits=(("P2", "influencer", "1.000000", "500.00"),))
        .fx("EUR", "2026-07", "1.1")
        .save()
    )  # fmt: skip
    m = open_metrics(ws.con, Policy(), AS_OF)
    with pytest.raises(InputError, match=r"no rate for EUR in 2026-08 or 2026-Q3: needed by 1 deal won then"):
        league(m.facts, m.period("2026-Q3"))


def test_a_single_touch_partner_and_ledger_entry_are_said_in_the_singular() -> None:
    # The QBR said "1 partner-engagement touches by 1 active partners over 3 months" and
    # "incentives are the 1 partner payout ledger entries posted in 2026-Q3" (found by fuzzing the
    # QBR with one partner touch and one payout).
    ws = (
        Book()
        .won("W1", "2026-07-01", "2026-07-31", "1000", "sourced")
        .program_cost("2026-Q3", "headcount", "100")
        .rows("touches", {"touch_id": "T1", "occurred_at": t("2026-08-01"), "account_id": "A1",
                          "actor": "partner", "kind": "intro", "partner_id": "P1"})
        .save()
    )  # fmt: skip
    ledger(ws, ("2026-08-31T00:00:00Z", "2026-08-31T00:00:00Z", "partner", "partner_payout", "50.00"))
    report = build_qbr(ws.con, Policy(), "2026-Q3", AS_OF)
    notes = [f.note for s in report.sections for f in s.figures] + [
        n for s in report.sections for n in s.notes
    ]
    text = " ".join(n for n in notes if n)
    assert "1 partner-engagement touch by 1 active partner over 3 months" in text, text
    assert "the 1 partner payout ledger entry posted in 2026-Q3" in text, text
