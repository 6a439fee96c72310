"""Property tests of the ledger over random sequences of deals, attribution changes, plan versions
and payout runs.

Two levels:
- the pure arithmetic (:mod:`cosell.pay.ledger`), many examples: the ledger per deal and party sums
  to what is desired, nothing is paid twice, a clawback never exceeds what was paid on its line,
  balances reconcile;
- a real workspace (SQL posting, sealed tables, payout runs, statements), fewer examples: after
  every step the SQL ledger equals the pure ledger fed with desired earnings computed from an
  independent Python model of the deals, and no entry was ever changed or removed.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from cosell.entries import EARNING_KINDS, PAYMENT, Entry
from cosell.pay.ledger import (
    PostingContext,
    balances,
    earned_by_deal,
    payment_entries,
    payout_lines,
    period_end,
    post_changes,
    statement_totals,
)
from cosell.pay.model import DealToPrice, Earning, PartnerCredit
from cosell.pay.payouts import approve_run, propose_run
from cosell.pay.posting import post_period
from cosell.pay.pricers import FunctionPricer
from cosell.pay.statements import statement
from cosell.store.ledger import read_entries

sys.path.insert(0, str(Path(__file__).parent))
from ledger_support import PayWorld, at, simple_price

D = Decimal
PARTIES = (("partner", "P1"), ("partner", "P2"), ("rep", "U1"))
DEALS = ("O1", "O2", "O3")
# More months than any sequence has steps: each payout run pays a month of its own.
MONTHS = tuple(f"{2026 + (8 + i) // 12}-{(8 + i) % 12 + 1:02d}" for i in range(16))


# ---- the pure arithmetic -----------------------------------------------------------------------

amounts = st.decimals(min_value=D("0.00"), max_value=D("999.99"), places=2)
earning_sets = st.lists(
    st.tuples(st.sampled_from(PARTIES), st.sampled_from(("r1", "r2")), amounts),
    max_size=3,
    unique_by=lambda t: (t[0], t[1]),
)
pure_steps = st.lists(
    st.one_of(
        st.tuples(st.just("desire"), st.sampled_from(DEALS), earning_sets, st.integers(1, 5)),
        st.tuples(st.just("pay")),
        st.tuples(st.just("next")),
    ),
    min_size=1,
    max_size=14,
)


def _earning(opp: str, party: tuple[str, str], rule: str, amount: Decimal, run: int) -> Earning:
    kind = "rep_commission" if party[0] == "rep" else "partner_payout"
    return Earning(opp, party[0], party[1], kind, rule, "plan@1", run, amount, f"{rule} {amount}")  # type: ignore[arg-type]


def check_paid_once_and_clawbacks(entries: Sequence[Entry]) -> None:
    """Nothing paid twice; every clawback takes back a paid earning, never more than it."""
    paid_periods = [(e.party, e.period) for e in entries if e.kind == PAYMENT]
    assert len(paid_periods) == len(set(paid_periods))
    by_id = {e.entry_id: e for e in entries}
    settled: dict[tuple[str, str], str] = {}
    for e in entries:  # in entry order: what was settled when each entry was posted
        if e.kind == PAYMENT:
            settled[e.party] = max(settled.get(e.party, ""), e.period)
        if e.kind in ("clawback", "reversal"):
            original = by_id[e.reverses or ""]
            assert original.kind in EARNING_KINDS and e.amount == -original.amount
            was_paid = original.period <= settled.get(original.party, "")
            assert (e.kind == "clawback") == was_paid
    reversed_ids = [e.reverses for e in entries if e.reverses]
    assert len(reversed_ids) == len(set(reversed_ids))


def check_statements_reconcile(entries: Sequence[Entry], months: Sequence[str]) -> None:
    for party in {e.party for e in entries}:
        previous_closing = D(0)
        for month in months:
            t = statement_totals(entries, party, month)
            assert t.opening == previous_closing
            assert t.opening + t.earnings + t.reversals + t.clawbacks + t.payments == t.closing
            previous_closing = t.closing


@given(pure_steps)
def test_pure_ledger_sums_to_desired_pays_once_and_claws_back_only_what_was_paid(steps: list[tuple]) -> None:  # type: ignore[type-arg]
    entries: list[Entry] = []
    desired: dict[tuple[str, str, str], Decimal] = {}
    month = 0
    for posting, step in enumerate(steps, start=1):
        ctx = PostingContext(
            posting, period_end(MONTHS[month]) + timedelta(days=1), MONTHS[month], "USD", "u"
        )
        if step[0] == "desire":
            _, opp, wanted, run = step
            earnings = [_earning(opp, party, rule, amount, run) for party, rule, amount in wanted]
            entries += post_changes(entries, {opp: earnings}, ctx)
            for key in [k for k in desired if k[0] == opp]:
                del desired[key]
            for e in earnings:
                k = (opp, e.party_kind, e.party_id)
                desired[k] = desired.get(k, D(0)) + e.amount
        elif step[0] == "pay":
            before = balances(entries, MONTHS[month])
            lines = payout_lines(entries, MONTHS[month])
            last = len(entries)
            entries += payment_entries(last, lines, f"PR-{posting}", ctx)
            for party, amount in before.items():
                after = balances(entries, MONTHS[month])[party]
                assert after == (D(0) if amount > 0 else amount)  # paid in full, or carried
            month += 1
        else:
            month += 1
        net = {k: v for k, v in earned_by_deal(entries).items() if v != 0}
        assert net == {k: v for k, v in desired.items() if v != 0}
        check_paid_once_and_clawbacks(entries)
    check_statements_reconcile(entries, MONTHS)


# ---- a real workspace --------------------------------------------------------------------------

V1 = datetime(1970, 1, 1, tzinfo=UTC)
V2 = at("2026-01-01T00:00:00Z")


@dataclass
class DealState:
    amount: str
    won: bool = True
    tier: str = "none"
    credits: tuple[tuple[str, str, str, str], ...] = ()
    run: int = 0


@dataclass
class Model:
    """An independent Python model of what the workspace holds and what each deal should earn."""

    deals: dict[str, DealState] = field(default_factory=dict)
    owner: dict[str, str] = field(default_factory=dict)
    pinned: dict[str, tuple[str, str]] = field(default_factory=dict)  # opp -> (rep, plan version)
    plan2: bool = False

    def desired(self, opp: str, reprice: bool) -> list[Earning]:
        s = self.deals[opp]
        if not s.won:
            return []
        rep, plan = self.pinned.get(opp, (self.owner[opp], "plan@2" if self.plan2 else "plan@1"))
        if reprice and self.plan2:
            plan = "plan@2"
        deal = DealToPrice(
            opp, True, at("2026-09-15T12:00:00Z"), "2026-09", "new_business", s.tier, s.run, D(s.amount), "USD",
            D(1), "USD", rep,
            tuple(PartnerCredit(p, "referral", "gold", role, D(share), D(amt)) for p, role, share, amt in s.credits),
        )  # fmt: skip
        return list(simple_price(plan, deal))


attributions = st.sampled_from(
    [
        ("none", ()),
        ("sourced", (("P1", "sourcer", "1.000000", "AMOUNT"),)),
        ("sourced", (("P2", "sourcer", "1.000000", "AMOUNT"),)),
        ("influenced", (("P1", "influencer", "1.000000", "AMOUNT"),)),
        ("accelerated", (("P1", "co_seller", "0.500000", "HALF"), ("P2", "influencer", "0.500000", "HALF"))),
    ]
)
changes = st.one_of(
    st.tuples(st.just("attribute"), st.sampled_from(DEALS), attributions),
    st.tuples(st.just("won"), st.sampled_from(DEALS), st.booleans()),
    st.tuples(st.just("amount"), st.sampled_from(DEALS), st.sampled_from(("1000.00", "2500.00", "4000.00"))),
    st.tuples(st.just("owner"), st.sampled_from(DEALS)),
    st.tuples(st.just("plan2")),
)
# Rounds of a month: a few changes, a posting, maybe a payout run (which moves to the next month).
rounds = st.lists(
    st.tuples(st.lists(changes, max_size=3), st.booleans()),
    min_size=1,
    max_size=4,
)


def _flatten(plan: list[tuple[list[tuple], bool]]) -> list[tuple]:  # type: ignore[type-arg]
    out: list[tuple] = []  # type: ignore[type-arg]
    for round_changes, pay in plan:
        out += [c for c in round_changes if c[0] != "plan2"] + [("post",)]
        out += [("plan2",)] if any(c[0] == "plan2" for c in round_changes) else []
        out += [("pay",)] if pay else []
    return out


def _fill(
    credits: tuple[tuple[str, str, str, str], ...], amount: str
) -> tuple[tuple[str, str, str, str], ...]:
    half = str(D(amount) / 2)
    return tuple((p, r, s, amount if a == "AMOUNT" else half) for p, r, s, a in credits)


@settings(max_examples=12, deadline=None)
@given(rounds)
def test_the_workspace_ledger_matches_the_model_and_is_never_rewritten(
    plan: list[tuple[list[tuple], bool]],
) -> None:  # type: ignore[type-arg]
    steps = _flatten(plan)
    w = PayWorld()
    for party in ("P1", "P2"):
        w.partner(party)
    for user, role in (("U1", "ae"), ("U2", "ae"), ("F1", "finance")):
        w.user(user, role)
    model = Model()
    for opp in DEALS:
        w.deal(opp, "1000.00")
        model.deals[opp] = DealState("1000.00")
        model.owner[opp] = "U1"
    first = w.attribute({opp: ("none", []) for opp in DEALS})
    for s in model.deals.values():
        s.run = first
    month = 0
    clock = 0
    seen: list[Entry] = []

    def instant() -> datetime:
        nonlocal clock
        clock += 1
        start = at(f"{MONTHS[month]}-01T00:00:00Z")
        return start.replace(day=28, hour=clock % 24, minute=clock // 24 % 60)

    for step in steps:
        kind = step[0]
        pricer = FunctionPricer(
            simple_price, (("plan@1", V1), ("plan@2", V2)) if model.plan2 else (("plan@1", V1),)
        )
        if kind == "attribute":
            _, opp, (tier, credits) = step
            s = model.deals[opp]
            s.tier, s.credits = tier, _fill(credits, s.amount)
            s.run = w.attribute({opp: (tier, s.credits)}, kind="fix", reason="property step")
        elif kind == "won":
            s = model.deals[step[1]]
            s.won = step[2]
            w.deal(step[1], s.amount, stage="Closed Won" if s.won else "Closed Lost", owner=model.owner[step[1]],
                   when=instant())  # fmt: skip
        elif kind == "amount":
            s = model.deals[step[1]]
            s.amount = step[2]
            w.deal(step[1], s.amount, stage="Closed Won" if s.won else "Closed Lost", owner=model.owner[step[1]],
                   when=instant())  # fmt: skip
            s.credits = _fill(tuple((p, r, sh, "AMOUNT" if sh == "1.000000" else "HALF") for p, r, sh, _ in s.credits),
                              s.amount)  # fmt: skip
            s.run = w.attribute({step[1]: (s.tier, s.credits)}, kind="batch")
        elif kind == "owner":
            model.owner[step[1]] = "U2" if model.owner[step[1]] == "U1" else "U1"
            s = model.deals[step[1]]
            w.deal(step[1], s.amount, stage="Closed Won" if s.won else "Closed Lost", owner=model.owner[step[1]],
                   when=instant())  # fmt: skip
        elif kind in ("post", "plan2"):
            reprice = kind == "plan2" and not model.plan2
            if kind == "plan2":
                model.plan2 = True
                pricer = FunctionPricer(simple_price, (("plan@1", V1), ("plan@2", V2)))
            before = read_entries(w.ws.con)
            when = instant()
            post_period(w.ws, w.policy, pricer, MONTHS[month], "fin", when, reprice=reprice)
            desired = {opp: model.desired(opp, reprice) for opp in DEALS}
            posting_id = max([e.posting_id for e in read_entries(w.ws.con)] + [0])
            ctx = PostingContext(posting_id, when, MONTHS[month], "USD", "fin")
            expected = post_changes(before, desired, ctx)
            got = read_entries(w.ws.con)[len(before) :]
            assert [_comparable(e) for e in got] == [_comparable(e) for e in expected]
            for opp in DEALS:
                if opp not in model.pinned and any(e.opportunity_id == opp for e in got):
                    rep = next((e.party_id for e in desired[opp] if e.party_kind == "rep"), model.owner[opp])
                    model.pinned[opp] = (rep, desired[opp][0].plan_version if desired[opp] else "plan@1")
                elif opp in model.pinned and reprice and model.deals[opp].won:
                    # A re-price moves the deals it prices (won ones) onto the version in force.
                    model.pinned[opp] = (model.pinned[opp][0], "plan@2")
            net = {k: v for k, v in earned_by_deal(read_entries(w.ws.con)).items() if v != 0}
            want = {}
            for opp in DEALS:
                for e in desired[opp]:
                    want[(opp, e.party_kind, e.party_id)] = (
                        want.get((opp, e.party_kind, e.party_id), D(0)) + e.amount
                    )
            assert net == {k: v for k, v in want.items() if v != 0}
        elif kind == "pay":
            when = at(f"{MONTHS[month + 1]}-01T06:00:00Z")
            run, lines = propose_run(w.ws, w.policy, MONTHS[month], "ops", when)
            approve_run(w.ws, w.policy, run.run_id, "F1", when)
            paid = read_entries(w.ws.con, "payout_run_id = ?", [run.run_id])
            assert sorted((e.party_id, -e.amount) for e in paid) == sorted(
                (x.party_id, x.pay) for x in lines if x.pay
            )
            month += 1
        entries = read_entries(w.ws.con)
        assert entries[: len(seen)] == seen  # nothing changed or removed
        seen = entries
        check_paid_once_and_clawbacks(entries)
    for party_kind, party_id in {e.party for e in seen}:
        previous = D(0)
        for m in MONTHS[: month + 1]:
            report = statement(w.ws.con, party_kind, party_id, m, "USD")
            f = {x.key: x.value for x in report.sections[0].figures}
            assert f["opening_balance"] == previous
            assert (
                sum(
                    f[k] or D(0)
                    for k in ("opening_balance", "earnings", "reversals", "clawbacks", "payments")
                )
                == (f["closing_balance"])
            )
            previous = f["closing_balance"] or D(0)


def _comparable(e: Entry) -> tuple[object, ...]:
    return (
        e.entry_id, e.idempotency_key, e.posted_at, e.recorded_at, e.period, e.posting_id, e.party_kind, e.party_id, e.opportunity_id, e.kind,
        e.rule_id, e.plan_version, e.attribution_run_id, e.amount, e.currency, e.basis, e.reverses, e.by_user,
    )  # fmt: skip
