"""Account overlap: where our accounts and a partner's list meet, and what that says (SPEC section 7).

::

    as_of_views(con, known_at); attribution_views(con, known_at)   # the caller opens the views
    report = account_overlap(con, policy, run_id=latest_run_id(con, known_at))
    report.matrix              # (our status, their status) -> how many (partner, account) pairs
    report.open_at_customers   # our open deals at accounts a partner lists as its customer
    report.unattributed_wins   # won, partner touches on the account, no partner attribution

Our status of an account: ``customer`` when it has a won deal, else ``open_opportunity`` when it has
an open deal, else ``prospect`` (stages by the policy's mapping, the deals as read through the
``v_`` views). Their status is the partner's own (partner_accounts.status); a partner listing an
account twice counts its strongest status once (:func:`cosell.accounts.match.statuses_of`).

A won deal is *unattributed* when its version in the attribution read (``v_attribution``: the
newest run known) has tier ``none``; with no run there is no such list, and the report says so.
Its partner touches are partner-engagement touches (the policy's kinds) on its account or on the
deal itself, at or before its close X (a touch after the win cannot have contributed to it): the
rules did not associate them (before the lookback, on another deal), which is what a reviewer
wants to see.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from cosell.accounts.match import (
    FUZZY_THRESHOLD,
    REVIEW_FLOOR,
    AccountMatch,
    MatchResult,
    OurAccount,
    PartnerAccount,
    match_accounts,
    statuses_of,
)
from cosell.engine import Engine
from cosell.hygiene.overlap_wins import unattributed_touches_sql
from cosell.instants import format_instant, json_instant
from cosell.metrics.deals import close_times_sql, stage_class_sql
from cosell.money import round_money
from cosell.policy import Policy
from cosell.store.staging import staged_rows

OUR_STATUSES = ("customer", "open_opportunity", "prospect")
THEIR_STATUSES = ("customer", "open_opportunity", "prospect")


@dataclass(frozen=True)
class OverlapDeal:
    """One of our deals at an account a partner lists."""

    opportunity_id: str
    account_id: str
    account_name: str
    partner_id: str
    partner_status: str
    amount: Decimal
    currency: str
    stage: str
    created_at: datetime


@dataclass(frozen=True)
class UnattributedWin:
    """A won deal at an overlap account with partner touches and no partner attribution."""

    opportunity_id: str
    account_id: str
    account_name: str
    amount: Decimal
    currency: str
    closed_at: datetime | None
    overlap_partners: tuple[str, ...]  # "P012:customer": who lists the account, with their status
    touch_partners: tuple[str, ...]  # whose partner-engagement touches are on the account or deal
    touches: int
    last_touch_at: datetime
    evidence: str  # the items reconciliation evidence is written in (overlap:P/status touch:T@instant)


@dataclass(frozen=True)
class OverlapReport:
    """Matches, the overlap matrix and the two lists, with what they were read from."""

    match: MatchResult
    matrix: dict[tuple[str, str], int]  # (our status, their status) -> (partner, account) pairs
    overlap_accounts: int
    open_at_customers: tuple[OverlapDeal, ...]
    unattributed_wins: tuple[UnattributedWin, ...]
    run_id: int | None  # the newest attribution run read; None: there is none
    known_at: datetime | None = None  # the knowledge instant read; None: everything recorded

    def to_json(self) -> dict[str, Any]:
        """Stable keys (docs/accounts.md); money as decimal strings, instants ISO 8601 UTC."""
        m = self.match
        return {
            "known_at": json_instant(self.known_at),
            "partner_rows": m.partner_rows,
            "matched": len(m.matches),
            "by_method": dict(m.by_method),
            "review_candidates": len(m.review),
            "unmatched": m.unmatched,
            "threshold": m.threshold,
            "floor": m.floor,
            "overlap_accounts": self.overlap_accounts,
            "matrix": [
                {"ours": o, "theirs": t, "pairs": self.matrix.get((o, t), 0)}
                for o in OUR_STATUSES
                for t in THEIR_STATUSES
            ],
            "matches": [match_json(x) for x in m.matches],
            "review": [match_json(x) for x in m.review],
            "open_at_customers": [
                {**_deal_json(d), "created_at": format_instant(d.created_at)} for d in self.open_at_customers
            ],
            "attribution_run_id": self.run_id,
            "unattributed_wins": [_win_json(w) for w in self.unattributed_wins],
        }


def match_json(m: AccountMatch) -> dict[str, Any]:
    """A match or review candidate as JSON (docs/accounts.md)."""
    return {
        "partner_id": m.partner_id,
        "partner_name": m.partner_name,
        "partner_domain": m.partner_domain,
        "status": m.status,
        "account_id": m.account_id,
        "account_name": m.account_name,
        "account_domain": m.account_domain,
        "method": m.method,
        "score": m.score,
        "name_score": m.name_score,
        "reason": m.reason,
    }


def _deal_json(d: OverlapDeal) -> dict[str, Any]:
    return {
        "opportunity_id": d.opportunity_id,
        "account_id": d.account_id,
        "account_name": d.account_name,
        "partner_id": d.partner_id,
        "partner_status": d.partner_status,
        "amount": str(d.amount),
        "currency": d.currency,
        "stage": d.stage,
    }


def _win_json(w: UnattributedWin) -> dict[str, Any]:
    return {
        "opportunity_id": w.opportunity_id,
        "account_id": w.account_id,
        "account_name": w.account_name,
        "amount": str(w.amount),
        "currency": w.currency,
        "closed_at": json_instant(w.closed_at),
        "overlap_partners": list(w.overlap_partners),
        "touch_partners": list(w.touch_partners),
        "touches": w.touches,
        "last_touch_at": format_instant(w.last_touch_at),
        "evidence": w.evidence,
    }


def read_rows(con: Engine) -> tuple[list[OurAccount], list[PartnerAccount]]:
    """Our accounts and every partner's list, from the ``v_`` views."""
    ours = [
        OurAccount(str(a), str(n), d)
        for a, n, d in con.execute(
            "SELECT account_id, name, domain FROM v_accounts ORDER BY account_id"
        ).fetchall()
    ]
    theirs = [
        PartnerAccount(str(p), str(n), d, str(s))
        for p, n, d, s in con.execute(
            "SELECT partner_id, name, domain, status FROM v_partner_accounts ORDER BY partner_id, name"
        ).fetchall()
    ]
    return ours, theirs


def overlap_pairs(con: Engine) -> tuple[tuple[str, str, str], ...]:
    """Every ``(partner_id, account_id, status)`` where a partner's list holds one of our accounts,
    from the ``v_`` views: the counted matches of :func:`cosell.accounts.match.match_accounts` at
    the default threshold (domain, name, fuzzy_name; review candidates never count), a partner
    listing an account twice once with its strongest status. Reconciliation reads the account
    overlap from these (:func:`cosell.service.reconcile.reconcile_known`), sorted."""
    ours, theirs = read_rows(con)
    pairs = statuses_of(match_accounts(ours, theirs).matches)
    return tuple((p, a, s) for (p, a), s in sorted(pairs.items()))


def our_statuses(con: Engine, policy: Policy) -> dict[str, str]:
    """customer / open_opportunity for every account with a won / open deal (prospect: absent)."""
    outcome = stage_class_sql("stage", policy)
    rows = con.execute(
        f"""SELECT account_id, bool_or(outcome = 'won'), bool_or(outcome = 'open')
        FROM (SELECT account_id, {outcome} AS outcome FROM v_opportunities)
        GROUP BY account_id ORDER BY account_id"""
    ).fetchall()
    return {str(a): "customer" if won else "open_opportunity" for a, won, open_ in rows if won or open_}


def account_overlap(
    con: Engine,
    policy: Policy,
    *,
    run_id: int | None,
    threshold: float = FUZZY_THRESHOLD,
    floor: float = REVIEW_FLOOR,
) -> OverlapReport:
    """Match, count and list (module docstring). Reads ``v_accounts``, ``v_partner_accounts``,
    ``v_opportunities``, ``v_stage_history``, ``v_touches`` and, when ``run_id`` is given,
    ``v_attribution``; opens no transaction and writes nothing."""
    ours, theirs = read_rows(con)
    result = match_accounts(ours, theirs, threshold=threshold, floor=floor)
    pairs = statuses_of(result.matches)
    status = our_statuses(con, policy)
    matrix = Counter((status.get(a, "prospect"), t) for (_, a), t in pairs.items())
    names = {a.account_id: a.name for a in ours}
    open_deals = _open_at_customers(con, policy, pairs, names)
    wins = _unattributed_wins(con, policy, pairs, names) if run_id is not None else ()
    return OverlapReport(
        match=result,
        matrix=dict(sorted(matrix.items())),
        overlap_accounts=len({a for _, a in pairs}),
        open_at_customers=open_deals,
        unattributed_wins=wins,
        run_id=run_id,
    )


def _pairs_table(con: Engine, pairs: dict[tuple[str, str], str]) -> None:
    # Handed over as Arrow data: an insert per pair costs about 0.3 ms, and a partner's list of
    # a large book matches hundreds of thousands of accounts.
    rows = [(p, a, s) for (p, a), s in sorted(pairs.items())]
    with staged_rows(con, "_ov_pairs_in", ("partner_id", "account_id", "status"), rows) as staged:
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE _ov_pairs AS SELECT partner_id, account_id, status FROM {staged}"
        )


def _open_at_customers(
    con: Engine, policy: Policy, pairs: dict[tuple[str, str], str], names: dict[str, str]
) -> tuple[OverlapDeal, ...]:
    _pairs_table(con, pairs)
    currency = policy.workspace_currency
    rows = con.execute(
        f"""SELECT o.opportunity_id, o.account_id, p.partner_id, p.status, o.amount,
            coalesce(nullif(trim(o.currency), ''), ?), o.stage, o.created_at
        FROM v_opportunities o JOIN _ov_pairs p ON p.account_id = o.account_id
        WHERE p.status = 'customer' AND {stage_class_sql("o.stage", policy)} = 'open'
        ORDER BY p.partner_id, o.account_id, o.opportunity_id""",
        [currency],
    ).fetchall()
    con.execute("DROP TABLE IF EXISTS _ov_pairs")
    return tuple(
        OverlapDeal(str(o), str(a), names.get(str(a), ""), str(p), str(s), round_money(amt, str(cur)), str(cur),
                    str(stage), created)
        for o, a, p, s, amt, cur, stage, created in rows
    )  # fmt: skip


def _unattributed_wins(
    con: Engine, policy: Policy, pairs: dict[tuple[str, str], str], names: dict[str, str]
) -> tuple[UnattributedWin, ...]:
    _pairs_table(con, pairs)
    # The rule is reconciliation's overlap_unattributed too: written once, in cosell.hygiene.
    rows = con.execute(
        f"""WITH x AS ({close_times_sql(policy)}),
        won AS (
            SELECT o.opportunity_id, o.account_id, o.amount,
                coalesce(nullif(trim(o.currency), ''), ?) AS currency, x.closed_at, a.tier
            FROM v_opportunities o JOIN v_attribution a ON a.opportunity_id = o.opportunity_id
            LEFT JOIN x ON x.opportunity_id = o.opportunity_id
            WHERE {stage_class_sql("o.stage", policy)} = 'won'),
        t AS ({unattributed_touches_sql("won", "_ov_pairs", policy)})
        SELECT w.opportunity_id, w.account_id, w.amount, w.currency, w.closed_at,
            list(t.touch_id ORDER BY t.occurred_at, t.touch_id),
            list(t.partner_id ORDER BY t.occurred_at, t.touch_id),
            list(t.occurred_at ORDER BY t.occurred_at, t.touch_id)
        FROM won w JOIN t ON t.opportunity_id = w.opportunity_id
        GROUP BY w.opportunity_id, w.account_id, w.amount, w.currency, w.closed_at
        ORDER BY w.account_id, w.opportunity_id""",
        [policy.workspace_currency],
    ).fetchall()
    con.execute("DROP TABLE IF EXISTS _ov_pairs")
    listed: dict[str, list[str]] = {}
    for (partner, account), status in sorted(pairs.items()):
        listed.setdefault(account, []).append(f"{partner}:{status}")
    out = []
    for opp, account, amount, cur, closed, touch_ids, partners, instants in rows:
        overlap = tuple(listed.get(str(account), ()))
        items = [f"overlap:{p.replace(':', '/')}" for p in overlap]
        items += [
            f"touch:{t}/{p}@{format_instant(at)}"
            for t, p, at in zip(touch_ids, partners, instants, strict=True)
        ]
        out.append(
            UnattributedWin(
                opportunity_id=str(opp),
                account_id=str(account),
                account_name=names.get(str(account), ""),
                amount=round_money(amount, str(cur)),
                currency=str(cur),
                closed_at=closed,
                overlap_partners=overlap,
                touch_partners=tuple(sorted(set(map(str, partners)))),
                touches=len(touch_ids),
                last_touch_at=max(instants),
                evidence=" ".join(items),
            )
        )
    return tuple(out)
