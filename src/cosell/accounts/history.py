"""The facts partner recommendation reads (:class:`cosell.accounts.recommend.History`), from the
``v_`` views and the attribution read (``v_attribution``, ``v_credits``).

The caller opens the views (:func:`cosell.store.workspace.as_of_views`, and
:func:`cosell.store.versions.attribution_views` when there is a run). Reads only.
"""

from __future__ import annotations

from datetime import timedelta

from cosell.accounts.match import match_accounts, statuses_of
from cosell.accounts.overlap import read_rows
from cosell.accounts.recommend import DealFact, History, RegistrationFact, TouchFact
from cosell.engine import Engine
from cosell.engine.sql import in_list
from cosell.metrics.deals import close_times_sql, stage_class_sql
from cosell.policy import Policy

PARTNER_TIERS = ("sourced", "accelerated", "influenced")


def read_history(con: Engine, policy: Policy, *, attributed: bool) -> History:
    """Every deal (with the partners credited on a partner tier when ``attributed``), partner
    engagement touches, registrations, the partners' lists matched to our accounts, and partner
    names."""
    credited: dict[str, list[str]] = {}
    if attributed:
        for opp, partner in con.execute(
            f"""SELECT c.opportunity_id, c.partner_id FROM v_credits c
            JOIN v_attribution a ON a.opportunity_id = c.opportunity_id
            WHERE a.tier IN {in_list(PARTNER_TIERS)} AND c.role <> 'servicer'
            GROUP BY 1, 2 ORDER BY 1, 2"""
        ).fetchall():
            credited.setdefault(str(opp), []).append(str(partner))
    deals = [
        DealFact(str(o), str(a), str(seg), created, closed, str(outcome), tuple(credited.get(str(o), ())))
        for o, a, seg, created, closed, outcome in con.execute(
            f"""WITH x AS ({close_times_sql(policy)})
            SELECT o.opportunity_id, o.account_id, coalesce(ac.segment, ''), o.created_at, x.closed_at,
                {stage_class_sql("o.stage", policy)}
            FROM v_opportunities o LEFT JOIN v_accounts ac ON ac.account_id = o.account_id
            LEFT JOIN x ON x.opportunity_id = o.opportunity_id
            ORDER BY o.opportunity_id"""
        ).fetchall()
    ]
    touches = [
        TouchFact(str(t), str(a), str(p), at)
        for t, a, p, at in con.execute(
            f"""SELECT t.touch_id, t.account_id, coalesce(t.partner_id, c.partner_id), t.occurred_at
            FROM v_touches t LEFT JOIN v_partner_contacts c ON c.contact_id = t.partner_contact_id
            WHERE t.actor = 'partner' AND t.kind IN {in_list(sorted(policy.engagement_kinds))}
                AND t.account_id IS NOT NULL AND coalesce(t.partner_id, c.partner_id) IS NOT NULL
            ORDER BY t.occurred_at, t.touch_id"""
        ).fetchall()
    ]
    window = timedelta(days=policy.protection_window_days)
    # An empty status is no status: not pending, so no open registration (docs/rules.md: it is not
    # approved and does not count; channel conflicts and `registrations list` read it as empty too).
    registrations = [
        RegistrationFact(str(r), str(p), str(a), at, str(status or ""), expires or at + window)
        for r, p, a, at, status, expires in con.execute(
            """SELECT registration_id, partner_id, account_id, registered_at, status, expires_at
            FROM v_deal_registrations ORDER BY registration_id"""
        ).fetchall()
    ]
    ours, theirs = read_rows(con)
    overlap = statuses_of(match_accounts(ours, theirs).matches)
    names = {
        str(p): str(n)
        for p, n in con.execute("SELECT partner_id, name FROM v_partners ORDER BY 1").fetchall()
    }
    return History(deals, touches, registrations, overlap, names)
