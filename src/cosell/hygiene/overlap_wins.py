"""Won deals at overlap accounts with partner touches and no partner attribution: the one rule.

SPEC section 7 lists "our won deals at overlap accounts that show partner touches but no partner
attribution", and issue 15 has them feed reconciliation as evidence. Two readers apply the rule,
and both call :func:`unattributed_touches_sql`, so it is written once:

- ``cosell accounts match`` lists the deals (:func:`cosell.accounts.overlap.account_overlap`, every
  won deal known);
- reconciliation raises an ``overlap_unattributed`` finding on each such deal of its window
  (:mod:`cosell.hygiene.finding_checks`).

It lives here rather than in :mod:`cosell.accounts` because hygiene comes before accounts in the
layers (tests/test_architecture.py): accounts may import it, hygiene may not import accounts. Which
accounts a partner lists is not decided here: the caller passes the matches of
:func:`cosell.accounts.match.match_accounts` in as a relation, so the partners' lists are matched
to our accounts in one place only.

The rule: a won deal whose computed tier is ``none``, on an account at least one partner lists
(any status), with at least one partner-engagement touch (``actor = 'partner'``, an engagement kind of
either of the policy's lists, SPEC section 1; a touch with only a partner contact takes that contact's partner) on its
account or logged on the deal itself, at or before its close X. A touch after the win cannot have
contributed to it; the earlier ones are those the rules did not associate with the deal (older than
the lookback, or logged on another deal of the account), which is what a reviewer wants to see.
"""

from __future__ import annotations

from cosell.engine.sql import in_list
from cosell.policy import Policy

__all__ = ["unattributed_touches_sql"]


def unattributed_touches_sql(won: str, pairs: str, policy: Policy) -> str:
    """SQL: ``(opportunity_id, touch_id, partner_id, occurred_at)``, one row per touch that makes a
    deal of ``won`` an unattributed win at an overlap account (the module docstring's rule).

    ``won`` is a relation of won deals with ``opportunity_id``, ``account_id``, ``closed_at`` (X;
    NULL: no close time known, every touch counts) and ``tier`` (the computed tier; NULL: not
    attributed, never listed). ``pairs`` is a relation of the matches with ``account_id`` (and
    ``partner_id``, ``status``). Reads ``v_touches`` and ``v_partner_contacts``. Only the touches on
    those deals' accounts or logged on those deals are read, each by an equality join, so a month of
    a million-deal workspace stays fast.
    """
    kinds = in_list(sorted(policy.engagement_kinds))  # a partner's touch of a direct kind too
    return f"""
        WITH uw AS (
            SELECT opportunity_id, account_id, closed_at FROM {won}
            WHERE tier = 'none' AND account_id IN (SELECT account_id FROM {pairs})),
        up AS (
            -- A partner touch with only a contact takes that contact's partner (SPEC section 1).
            SELECT t.touch_id, t.account_id, nullif(trim(t.opportunity_id), '') AS touch_opp,
                t.occurred_at, coalesce(nullif(trim(t.partner_id), ''), c.partner_id) AS partner_id
            FROM v_touches t LEFT JOIN v_partner_contacts c ON c.contact_id = t.partner_contact_id
            WHERE t.actor = 'partner' AND t.kind IN {kinds}
                AND (t.account_id IN (SELECT account_id FROM uw)
                     OR t.opportunity_id IN (SELECT opportunity_id FROM uw))),
        hit AS (
            SELECT uw.opportunity_id, uw.closed_at, up.* FROM uw JOIN up ON up.account_id = uw.account_id
            UNION ALL
            SELECT uw.opportunity_id, uw.closed_at, up.* FROM uw JOIN up ON up.touch_opp = uw.opportunity_id)
        SELECT DISTINCT opportunity_id, touch_id, partner_id, occurred_at FROM hit
        WHERE partner_id IS NOT NULL AND (closed_at IS NULL OR occurred_at <= closed_at)"""
