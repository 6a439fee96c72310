"""Ledger arithmetic, pure: desired earnings against what is posted, balances, payouts, clawbacks.

This module is the definition of what the ledger does; :mod:`cosell.pay.posting` does the same in
SQL over millions of deals, and a property test holds the two to identical entries.

::

    earning kinds     partner_payout, rep_commission, bonus      (what a rule pays: + normally)
    reversing kinds   reversal (of an unpaid earning), clawback (of a paid one): minus the earning
    payment           minus what a payout run paid a party (party level, no deal)

Every amount is signed and in the workspace currency: a party's *balance* is the sum of its entries,
what the company owes it (negative: what the party owes back, carried until recovered).

A *line* is (deal, party, rule, earning kind). A line holds at most one *live* earning: an earning
entry that no later entry reverses. Posting compares each line's live earning with the earning the
current attribution and plan say: equal amounts post nothing (even under a newer attribution or
plan version: the live entry keeps the versions that first priced it); anything else fully
reverses the live earning and posts the desired one (when it is not zero).

Paid versus earned: an approved payout run for period P pays a party's whole positive balance of the
periods up to P, so every entry of that party in those periods is then *settled* (paid in full,
part in cash and part by recovering an earlier clawback). Reversing a settled earning is a
*clawback*, reversing an unsettled one a *reversal*. An earning is settled entirely or not at all,
so a clawback never exceeds what was paid on its line.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Literal

from cosell.entries import (
    EARNING_KINDS,
    PARTY_KINDS,
    PAYMENT,
    Entry,
    LineKey,
    Party,
)
from cosell.errors import CosellError, UsageError
from cosell.instants import UNSUPPORTED
from cosell.money import MONEY_INTEGER_DIGITS, fits_storage
from cosell.pay.model import Earning
from cosell.periods import Period, parse_period

# Who may load plan versions, post a period and propose a payout run, where the workspace has users.
# SPEC section 9 names only the approver (finance); a controller would not let a rep or a partner
# move money, so these are the roles that see all of it: finance, partner ops (partner_manager or
# partner_ops) and admin.
PAY_OPERATOR_ROLES = ("finance", "partner_ops", "partner_manager", "admin")


class PricingError(CosellError):
    """Pricing returned something the ledger cannot post (two earnings on one line, a wrong deal)."""


def entry_id(number: int) -> str:
    """The id of the ``number``-th entry: ``LE-00000001``."""
    return f"LE-{number:08d}"


def entry_number(entry_id_text: str) -> int:
    return int(entry_id_text[3:])


def earning_key(e: Earning) -> str:
    """Idempotency key of an earning: deal, party, rule, plan version, attribution version, kind."""
    return (
        f"{e.opportunity_id}|{e.party_kind}:{e.party_id}|{e.rule_id}|{e.plan_version}|"
        f"{e.attribution_run_id}|{e.kind}"
    )


def line_of(e: Entry | Earning) -> LineKey:
    assert e.opportunity_id is not None and e.rule_id is not None
    return (e.opportunity_id, e.party_kind, e.party_id, e.rule_id, e.kind)


def live_earnings(entries: Iterable[Entry]) -> dict[LineKey, Entry]:
    """Each line's live earning: the earning entries that no entry reverses."""
    entries = list(entries)
    reversed_ids = {e.reverses for e in entries if e.reverses is not None}
    out: dict[LineKey, Entry] = {}
    for e in entries:
        if e.kind in EARNING_KINDS and e.entry_id not in reversed_ids:
            key = line_of(e)
            if key in out:  # pragma: no cover - the ledger's own invariant
                raise CosellError(f"two live earnings on one line: {out[key].entry_id}, {e.entry_id}")
            out[key] = e
    return out


def settled_through(entries: Iterable[Entry]) -> dict[Party, str]:
    """Per party, the latest period a payout paid it: its entries up to that period are settled."""
    out: dict[Party, str] = {}
    for e in entries:
        if e.kind == PAYMENT and (e.party not in out or e.period > out[e.party]):
            out[e.party] = e.period
    return out


def is_settled(entry: Entry, settled: Mapping[Party, str]) -> bool:
    through = settled.get(entry.party)
    return through is not None and entry.period <= through


def check_earnings(opportunity_id: str, earnings: Sequence[Earning]) -> None:
    """Refuse earnings of another deal, of an unknown kind, too large for the ledger, or two on one
    line."""
    seen: set[LineKey] = set()
    for e in earnings:
        if e.opportunity_id != opportunity_id:
            raise PricingError(f"pricing {opportunity_id} returned an earning of {e.opportunity_id}")
        if e.kind not in EARNING_KINDS or e.party_kind not in PARTY_KINDS:
            raise PricingError(f"pricing {opportunity_id} returned kind {e.kind!r} for {e.party_kind!r}")
        if not fits_storage(e.amount):
            raise PricingError(
                f"pricing {opportunity_id} gives {e.party_kind} {e.party_id} {e.amount:,f} under "
                f"rule {e.rule_id} of {e.plan_version}: too large for the ledger (at most "
                f"{MONEY_INTEGER_DIGITS} digits before the decimal point); nothing was posted"
            )
        key = line_of(e)
        if key in seen:
            raise PricingError(
                f"pricing {opportunity_id} returned two earnings for {e.party_kind} {e.party_id} "
                f"under rule {e.rule_id} ({e.kind})"
            )
        seen.add(key)


@dataclass(frozen=True)
class PostingContext:
    """What every entry of one posting shares."""

    posting_id: int
    recorded_at: datetime
    period: str
    currency: str
    by_user: str

    @property
    def posted_at(self) -> datetime:
        """Entries are dated in their period: when it is posted after it ended, at its last instant."""
        return min(self.recorded_at, period_end(self.period) - timedelta(microseconds=1))


def period_end(period: str) -> datetime:
    """The exclusive end of a month label (``2026-10`` -> 2026-11-01T00:00Z)."""
    year, month = int(period[:4]), int(period[5:7])
    return datetime(year + month // 12, month % 12 + 1, 1, tzinfo=UTC)


def post_changes(
    entries: Sequence[Entry],
    desired: Mapping[str, Sequence[Earning]],
    ctx: PostingContext,
    reasons: Mapping[str, str] | None = None,
) -> list[Entry]:
    """The entries that make each deal in ``desired`` match its desired earnings (none: all reversed).

    Deals not in ``desired`` are left alone. New entries are numbered after the last one in
    ``entries``, per deal in deal order: first the reversals and clawbacks (by line), then the new
    earnings (by line). ``reasons`` gives each deal's reason text (default empty).
    """
    reasons = reasons or {}
    live = live_earnings(entries)
    settled = settled_through(entries)
    # Earlier earnings with the same idempotency key (a line priced again from the same plan and
    # attribution versions after a change in between): the new key gets #2, #3 ... to stay unique.
    keys_used: dict[tuple[LineKey, str | None, int | None], int] = {}
    for e in entries:
        if e.kind in EARNING_KINDS:
            used = (line_of(e), e.plan_version, e.attribution_run_id)
            keys_used[used] = keys_used.get(used, 0) + 1
    live_by_deal: dict[str, list[Entry]] = {}
    for e in live.values():
        assert e.opportunity_id is not None
        live_by_deal.setdefault(e.opportunity_id, []).append(e)
    number = max((entry_number(e.entry_id) for e in entries), default=0)
    out: list[Entry] = []
    for opp in sorted(desired):
        check_earnings(opp, desired[opp])
        wanted = {line_of(w): w for w in desired[opp]}
        reason = reasons.get(opp, "")
        reversals: list[Entry] = []
        news: list[Earning] = []
        for old in live_by_deal.get(opp, []):
            w = wanted.get(line_of(old))
            if w is None or w.amount != old.amount:
                reversals.append(old)
        for key, w in wanted.items():
            old_live = live.get(key)
            if w.amount != 0 and (old_live is None or old_live.amount != w.amount):
                news.append(w)
        for old in sorted(reversals, key=line_of):
            number += 1
            kind = "clawback" if is_settled(old, settled) else "reversal"
            out.append(_entry(ctx, number, old, kind, reason))
        for w in sorted(news, key=line_of):
            number += 1
            used = (line_of(w), w.plan_version, w.attribution_run_id)
            n = keys_used.get(used, 0)
            keys_used[used] = n + 1
            key_text = earning_key(w) if n == 0 else f"{earning_key(w)}#{n + 1}"
            out.append(
                Entry(
                    entry_id(number), key_text, ctx.posted_at, ctx.recorded_at, ctx.period, ctx.posting_id, w.party_kind,
                    w.party_id, w.opportunity_id, w.kind, w.rule_id, w.plan_version, w.attribution_run_id,
                    w.amount, ctx.currency, w.basis, None, None, ctx.by_user, reason,
                )
            )  # fmt: skip
    return out


def _entry(ctx: PostingContext, number: int, old: Entry, kind: str, reason: str) -> Entry:
    return Entry(
        entry_id(number), f"{old.idempotency_key}|{kind}", ctx.posted_at, ctx.recorded_at, ctx.period, ctx.posting_id,
        old.party_kind, old.party_id, old.opportunity_id, kind, old.rule_id, old.plan_version,
        old.attribution_run_id, -old.amount, ctx.currency, f"reverses {old.entry_id}: {old.basis}",
        old.entry_id, None, ctx.by_user, reason,
    )  # fmt: skip


def balances(entries: Iterable[Entry], through_period: str | None = None) -> dict[Party, Decimal]:
    """Each party's balance (what it is owed), over the periods up to ``through_period`` (all: None)."""
    out: dict[Party, Decimal] = {}
    for e in entries:
        if through_period is None or e.period <= through_period:
            out[e.party] = out.get(e.party, Decimal(0)) + e.amount
    return out


def earned_by_deal(entries: Iterable[Entry]) -> dict[tuple[str, str, str], Decimal]:
    """Net earnings per (deal, party_kind, party_id): earnings minus reversals and clawbacks."""
    out: dict[tuple[str, str, str], Decimal] = {}
    for e in entries:
        if e.kind != PAYMENT:
            assert e.opportunity_id is not None
            key = (e.opportunity_id, e.party_kind, e.party_id)
            out[key] = out.get(key, Decimal(0)) + e.amount
    return out


Status = Literal["pay", "blocked"]


@dataclass(frozen=True)
class PayoutLine:
    """One party in a payout run: its balance of the periods up to the run's, and what is paid."""

    party_kind: str
    party_id: str
    balance: Decimal
    pay: Decimal  # the balance when positive; 0 when blocked
    status: Status  # pay, or blocked: a negative balance carried until recovered


def payout_lines(entries: Iterable[Entry], period: str) -> list[PayoutLine]:
    """What a payout run for ``period`` pays: each party's positive balance; negative ones blocked.

    A party whose balance is exactly zero is not listed (nothing to pay, nothing carried).
    """
    out: list[PayoutLine] = []
    for (kind, party), amount in sorted(balances(entries, period).items()):
        if amount > 0:
            out.append(PayoutLine(kind, party, amount, amount, "pay"))
        elif amount < 0:
            out.append(PayoutLine(kind, party, amount, Decimal(0), "blocked"))
    return out


def payment_entries(
    last_number: int, lines: Iterable[PayoutLine], run_id: str, ctx: PostingContext
) -> list[Entry]:
    """The payment entries that approving a run posts (numbered after ``last_number``): minus each
    paid amount, in the run's period, by party."""
    number = last_number
    out: list[Entry] = []
    for line in sorted(lines, key=lambda x: (x.party_kind, x.party_id)):
        if line.status != "pay":
            continue
        number += 1
        out.append(
            Entry(
                entry_id(number), f"payment|{run_id}|{line.party_kind}:{line.party_id}", ctx.posted_at,
                ctx.recorded_at, ctx.period, ctx.posting_id, line.party_kind, line.party_id, None, PAYMENT, None, None,
                None, -line.pay, ctx.currency, f"payout run {run_id}", None, run_id, ctx.by_user,
                f"paid by payout run {run_id}",
            )
        )  # fmt: skip
    return out


@dataclass(frozen=True)
class StatementTotals:
    """A party's movements in one period, by kind, between its opening and closing balances."""

    opening: Decimal
    earnings: Decimal
    reversals: Decimal
    clawbacks: Decimal
    payments: Decimal
    closing: Decimal


def statement_totals(entries: Iterable[Entry], party: Party, period: str) -> StatementTotals:
    """Opening (periods before), the period's movements by kind, and closing = opening + movements."""
    opening = earnings = reversals = clawbacks = payments = Decimal(0)
    for e in entries:
        if e.party != party or e.period > period:
            continue
        if e.period < period:
            opening += e.amount
        elif e.kind in EARNING_KINDS:
            earnings += e.amount
        elif e.kind == "reversal":
            reversals += e.amount
        elif e.kind == "clawback":
            clawbacks += e.amount
        else:
            payments += e.amount
    closing = opening + earnings + reversals + clawbacks + payments
    return StatementTotals(opening, earnings, reversals, clawbacks, payments, closing)


def pay_month(period: str, purpose: str) -> Period:
    """The month ``period`` names (``2026-10``); a bad label or a quarter is a usage error saying
    ``purpose`` (what is done per month: "a payout run pays a month")."""
    try:
        target = parse_period(period)
    except ValueError as exc:
        if UNSUPPORTED in str(exc):  # a month, of a year cosell does not take
            raise UsageError(f"--period: {exc}") from None
        # parse_period's own message offers a quarter too, which pay refuses just below.
        raise UsageError(
            f"--period: {period!r} is not a month ({purpose}; a month is written 2026-08)"
        ) from None
    if target.is_quarter:
        raise UsageError(f"{purpose}, not a quarter: {period}")
    return target
