"""The checks of reconciliation: each step builds one temp table over every deal at once.

:func:`cosell.hygiene.findings.detect` runs them in order: the won deals of the window
(``_rec_won``), their declared values, value at close and attribution (``_rec_deals``), partner and
direct touches (``_rec_ptouch``, ``_rec_direct``), activity, sourcing claims and accounts
(``_rec_claims``, ``_rec_elsewhere``), the account overlap the caller matched (``_rec_overlap``,
``_rec_unattributed``), and the (kind, deal) hits (``_rec_hits``).
What each kind means is in the docstring of :mod:`cosell.hygiene.findings` and in
docs/hygiene-review.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from cosell.engine import Engine
from cosell.fx import check_rates, converted_amounts_sql
from cosell.hygiene.overlap_wins import unattributed_touches_sql
from cosell.hygiene.sql import close_time_ctes
from cosell.hygiene.sql import in_list as _in
from cosell.hygiene.sql import lit as _lit
from cosell.hygiene.sql import ts as _ts
from cosell.instants import MICROS_PER_DAY
from cosell.policy import Policy
from cosell.store.intake import version_filter
from cosell.store.staging import staged_rows
from cosell.store.tables import tables_present

# Kinds about the declared value now; any of them explains a declared/computed difference.
EXPLAINING_KINDS = (
    "untagged_partner_involvement",
    "over_credited",
    "double_sourced",
    "influence_without_activity",
    "acceleration_unproven",
)
PARTNER_TIERS = ("sourced", "accelerated", "influenced")
CONFIRMED = ("none", "sourced", "influenced", "accelerated")


@dataclass(frozen=True)
class Window:
    """The deals to check: closed-won with ``start <= X < end`` (open ends when None) and X at or
    before ``evaluated_at`` (the as-of instant T: a deal that closed after T was still open then)."""

    label: str
    start: datetime | None
    end: datetime | None
    evaluated_at: datetime


def won_deals(con: Engine, policy: Policy, window: Window) -> None:
    """``_rec_won``: closed-won deals with their close time X inside the window.

    A deal's outcome and X are its attribution version's, as stored with it (``v_evidence``): the
    rules' own, not derived again. Deals without stored evidence (not attributed yet, or a version
    stored before evidence was kept) are closed-won by their current stage, X from the data
    (:func:`cosell.hygiene.sql.close_time_ctes`, the definition the gate audit uses)."""
    won, lost = policy.won_stages, policy.lost_stages
    bounds = [f"x_at <= {_ts(window.evaluated_at)}"]
    if window.start is not None:
        bounds.append(f"x_at >= {_ts(window.start)}")
    if window.end is not None:
        bounds.append(f"x_at < {_ts(window.end)}")
    # X is an entry into the deal's current stage or its close_date: only deals with one of those in
    # the window can close in it, so only their stage timelines are read.
    candidates = "SELECT opportunity_id FROM o0"
    if window.start is not None or window.end is not None:
        inside = " AND ".join(b.replace("x_at", "{0}") for b in bounds)
        candidates = f"""
            SELECT opportunity_id FROM o0 WHERE {inside.format("close_date")}
            UNION
            SELECT s.opportunity_id FROM v_stage_history s
            JOIN o0 ON o0.opportunity_id = s.opportunity_id AND o0.stage = s.stage
            WHERE {inside.format("s.entered_at")}"""
    columns = "opportunity_id, account_id, created_at, amount, stage, close_date, source_lead_id"
    currency = "coalesce(nullif(trim({0}currency), ''), " + _lit(policy.workspace_currency) + ") AS currency"
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE _rec_won AS
        WITH ev AS (SELECT opportunity_id, status, closed_at AS x_at FROM v_evidence),
        o0 AS (
            SELECT {columns}, {currency.format("")} FROM v_opportunities
            WHERE stage IN {_in(won)} AND opportunity_id NOT IN (SELECT opportunity_id FROM ev)),
        o AS (SELECT * FROM o0 WHERE opportunity_id IN ({candidates})),
        sh AS (
            SELECT DISTINCT s.opportunity_id, s.stage, s.entered_at FROM v_stage_history s
            WHERE s.opportunity_id IN (SELECT opportunity_id FROM o)),{close_time_ctes(won, lost, "x_at")},
        stored AS (
            SELECT {", ".join("v." + c for c in columns.split(", "))}, {currency.format("v.")}, ev.x_at
            FROM ev JOIN v_opportunities v ON v.opportunity_id = ev.opportunity_id
            WHERE ev.status = 'won' AND {" AND ".join(b.replace("x_at", "ev.x_at") for b in bounds)}),
        decided AS (
            SELECT {columns}, currency, x_at FROM w
            UNION ALL SELECT {columns}, currency, x_at FROM stored)
        SELECT opportunity_id, account_id, created_at, amount, currency, stage, source_lead_id,
            x_at AS closed_at, epoch_us(created_at) AS c_us, epoch_us(x_at) AS x_us
        FROM decided WHERE {" AND ".join(bounds)}"""
    )


def deals(con: Engine, policy: Policy, as_of: datetime | None, declared: str) -> None:
    """``_rec_deals``: each won deal with its declared values, value at close and attribution."""
    confirmed = _in(CONFIRMED)
    declarations = "SELECT NULL::VARCHAR AS opportunity_id, NULL::TIMESTAMPTZ AS at WHERE FALSE"
    if tables_present(con, ("declarations",)):
        known = "TRUE" if as_of is None else f"recorded_at <= {_ts(as_of)}"
        declarations = f"SELECT opportunity_id, recorded_at AS at FROM declarations WHERE {known}"
    converted = converted_amounts_sql(
        "SELECT opportunity_id, amount, currency, closed_at FROM _rec_won", "closed_at", policy
    )
    check_rates(con, converted)
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE _rec_deals AS
        WITH fh AS (
            SELECT opportunity_id, nullif(lower(trim(new_value)), '') AS new_value,
                nullif(lower(trim(old_value)), '') AS old_value, changed_at, changed_by
            FROM v_field_history
            WHERE field = 'partner_source' AND opportunity_id IN (SELECT opportunity_id FROM _rec_won)),
        before AS (
            SELECT w.opportunity_id, fh.new_value FROM _rec_won w
            JOIN fh ON fh.opportunity_id = w.opportunity_id AND fh.changed_at <= w.closed_at
            QUALIFY row_number() OVER (PARTITION BY w.opportunity_id
                ORDER BY fh.changed_at DESC, fh.new_value DESC NULLS LAST) = 1),
        after AS (
            SELECT w.opportunity_id, fh.old_value FROM _rec_won w
            JOIN fh ON fh.opportunity_id = w.opportunity_id AND fh.changed_at > w.closed_at
            QUALIFY row_number() OVER (PARTITION BY w.opportunity_id
                ORDER BY fh.changed_at, fh.old_value NULLS FIRST) = 1),
        later AS (
            SELECT w.opportunity_id, fh.new_value, fh.changed_at, fh.changed_by FROM _rec_won w
            JOIN fh ON fh.opportunity_id = w.opportunity_id AND fh.changed_at > w.closed_at
            WHERE fh.new_value IN {confirmed}
            QUALIFY row_number() OVER (PARTITION BY w.opportunity_id
                ORDER BY fh.changed_at, fh.new_value) = 1),
        crm AS (
            SELECT opportunity_id, nullif(lower(trim(partner_source)), '') AS crm_source
            FROM opportunities WHERE {version_filter(as_of)}
                AND opportunity_id IN (SELECT opportunity_id FROM _rec_won)),
        decl AS (
            SELECT DISTINCT w.opportunity_id FROM _rec_won w
            JOIN ({declarations}) d ON d.opportunity_id = w.opportunity_id AND d.at <= w.closed_at),
        money AS ({converted})
        SELECT w.*, money.amount_ws,
            nullif(lower(trim(d.partner_source)), '') AS declared_source,
            nullif(trim(d.partner_id), '') AS declared_partner_id,
            coalesce(length(trim(d.activity_log)) > 0, FALSE) AS has_log,
            CASE WHEN before.opportunity_id IS NOT NULL THEN before.new_value
                WHEN after.opportunity_id IS NOT NULL THEN after.old_value
                ELSE crm.crm_source END AS source_at_close,
            decl.opportunity_id IS NOT NULL AS declared_by_close,
            later.new_value AS later_value, later.changed_at AS later_at, later.changed_by AS later_by,
            a.run_id, a.tier, nullif(a.primary_partner_id, '') AS computed_partner_id,
            ' ' || coalesce(a.rules, '') || ' ' AS rules, coalesce(a.evidence, '') AS attribution_evidence,
            a.engagement_at, a.remaining_days, a.baseline_days, a.cohort, a.cohort_size
        FROM _rec_won w
        JOIN money ON money.opportunity_id = w.opportunity_id
        LEFT JOIN {declared} d ON d.opportunity_id = w.opportunity_id
        LEFT JOIN before ON before.opportunity_id = w.opportunity_id
        LEFT JOIN after ON after.opportunity_id = w.opportunity_id
        LEFT JOIN later ON later.opportunity_id = w.opportunity_id
        LEFT JOIN crm ON crm.opportunity_id = w.opportunity_id
        LEFT JOIN decl ON decl.opportunity_id = w.opportunity_id
        LEFT JOIN v_attribution a ON a.opportunity_id = w.opportunity_id"""
    )


def touches(con: Engine) -> None:
    """``_rec_touches``: the touches logged on a checked deal or on its account (one scan of
    ``v_touches``; every later check reads this much smaller table), partner resolved."""
    con.execute(
        """CREATE OR REPLACE TEMP TABLE _rec_touches AS
        WITH t AS (
            SELECT touch_id, occurred_at, account_id, actor, kind, partner_contact_id,
                nullif(trim(opportunity_id), '') AS touch_opp, nullif(trim(partner_id), '') AS partner_id
            FROM v_touches
            WHERE opportunity_id IN (SELECT opportunity_id FROM _rec_won)
                OR account_id IN (SELECT account_id FROM _rec_won))
        SELECT t.touch_id, t.occurred_at, epoch_us(t.occurred_at) AS t_us, t.account_id, t.actor, t.kind,
            t.touch_opp, coalesce(t.partner_id, pc.partner_id) AS partner_id
        FROM t LEFT JOIN v_partner_contacts pc ON pc.contact_id = t.partner_contact_id"""
    )


def activity(con: Engine, policy: Policy) -> None:
    """``_rec_ptouch``: partner-engagement touches associated with each deal at or before X.
    ``_rec_direct``: the direct-engagement touch a direct-first guard of the deal's version points
    at (the earliest on its account, or logged on it, inside the sourcing lookback)."""
    kinds = _in(policy.engagement_kinds)
    lookback = policy.lookback_days * MICROS_PER_DAY
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE _rec_ptouch AS
        WITH t AS (
            SELECT * FROM _rec_touches
            WHERE actor = 'partner' AND kind IN {kinds} AND partner_id IS NOT NULL)
        SELECT w.opportunity_id, t.partner_id, t.touch_id, t.occurred_at FROM _rec_won w
        JOIN t ON t.touch_opp = w.opportunity_id
        WHERE t.t_us <= w.x_us
        UNION ALL
        SELECT w.opportunity_id, t.partner_id, t.touch_id, t.occurred_at FROM _rec_won w
        JOIN t ON t.touch_opp IS NULL AND t.account_id = w.account_id
        WHERE t.t_us >= w.c_us - {lookback} AND t.t_us <= w.x_us"""
    )
    # The direct touch a direct-first guard points at: the one stored with the version's blocked
    # claims; for deals without stored evidence, found in the data.
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE _rec_direct AS
        WITH t AS (SELECT * FROM _rec_touches WHERE actor = 'direct' AND kind IN {kinds}),
        legacy AS (
            SELECT * FROM _rec_won WHERE opportunity_id NOT IN (SELECT opportunity_id FROM v_evidence)),
        hits AS (
            SELECT w.opportunity_id, t.touch_id, t.occurred_at FROM legacy w
            JOIN t ON t.account_id = w.account_id
            WHERE t.t_us >= w.c_us - {lookback} AND t.t_us <= w.c_us
            UNION ALL
            SELECT w.opportunity_id, t.touch_id, t.occurred_at FROM legacy w
            JOIN t ON t.touch_opp = w.opportunity_id
            WHERE t.t_us >= w.c_us - {lookback} AND t.t_us <= w.c_us)
        SELECT opportunity_id, touch_id, occurred_at FROM hits
        QUALIFY row_number() OVER (PARTITION BY opportunity_id ORDER BY occurred_at, touch_id) = 1
        UNION ALL
        SELECT DISTINCT c.opportunity_id, c.blocking_touch_id, c.blocking_at FROM v_claims c
        WHERE c.blocking_touch_id IS NOT NULL AND c.opportunity_id IN (SELECT opportunity_id FROM _rec_won)"""
    )


def claims_and_accounts(con: Engine) -> None:
    """``_rec_claims``: who claims to have sourced each deal. ``_rec_elsewhere``: evidence linked to
    a deal but on another account."""
    con.execute(
        """CREATE OR REPLACE TEMP TABLE _rec_claims AS
        SELECT opportunity_id, declared_partner_id AS partner_id, 'crm' AS source, NULL AS ref,
            NULL::TIMESTAMPTZ AS at
        FROM _rec_deals WHERE declared_source = 'sourced' AND declared_partner_id IS NOT NULL
        UNION ALL
        SELECT op.opportunity_id, op.partner_id, 'opportunity_partners', NULL, op.added_at
        FROM v_opportunity_partners op JOIN _rec_won w ON w.opportunity_id = op.opportunity_id
        WHERE op.role = 'sourcer'
        UNION ALL
        SELECT r.opportunity_id, r.partner_id, 'registration', r.registration_id, r.registered_at
        FROM v_deal_registrations r JOIN _rec_won w ON w.opportunity_id = r.opportunity_id
        WHERE r.status = 'approved' OR (r.status = 'expired' AND r.expires_at > w.created_at)
        UNION ALL
        SELECT w.opportunity_id, l.partner_id, 'lead', l.lead_id, l.created_at
        FROM v_leads l JOIN _rec_won w ON l.converted_opportunity_id = w.opportunity_id
        WHERE l.partner_id IS NOT NULL
        UNION ALL
        SELECT w.opportunity_id, l.partner_id, 'lead', l.lead_id, l.created_at
        FROM v_leads l JOIN _rec_won w ON l.lead_id = w.source_lead_id
        WHERE l.partner_id IS NOT NULL
            AND l.converted_opportunity_id IS DISTINCT FROM w.opportunity_id"""
    )
    con.execute(
        """CREATE OR REPLACE TEMP TABLE _rec_elsewhere AS
        SELECT w.opportunity_id, r.account_id, 'registration' AS type, r.registration_id AS id,
            r.registered_at AS at
        FROM v_deal_registrations r JOIN _rec_won w ON w.opportunity_id = r.opportunity_id
        WHERE r.account_id IS NOT NULL AND r.account_id <> w.account_id
        UNION ALL
        SELECT w.opportunity_id, l.account_id, 'lead', l.lead_id, l.created_at
        FROM v_leads l JOIN _rec_won w ON l.converted_opportunity_id = w.opportunity_id
        WHERE l.account_id IS NOT NULL AND l.account_id <> w.account_id
        UNION ALL
        SELECT w.opportunity_id, t.account_id, 'touch', t.touch_id, t.occurred_at
        FROM _rec_touches t JOIN _rec_won w ON w.opportunity_id = t.touch_opp
        WHERE t.account_id IS NOT NULL AND t.account_id <> w.account_id"""
    )


def overlap(con: Engine, policy: Policy, pairs: Sequence[tuple[str, str, str]]) -> None:
    """``_rec_overlap``: the partners listing each deal's account, with their status.
    ``_rec_unattributed``: the partner touches that make a won deal with computed tier none at such
    an account an ``overlap_unattributed`` finding (:mod:`cosell.hygiene.overlap_wins`).

    ``pairs`` are ``(partner_id, account_id, status)``: the partners' lists matched to our accounts
    by the caller with the overlap matcher (:func:`cosell.accounts.overlap.overlap_pairs`: by domain,
    normalised name or fuzzy name; review candidates never count). Hygiene does not match names
    itself, so the overlap reconciliation reads is the one ``cosell accounts match`` prints."""
    columns = ("partner_id", "account_id", "status")
    with staged_rows(con, "_rec_pairs_in", columns, [tuple(p) for p in pairs]) as staged:
        con.execute(
            f"""CREATE OR REPLACE TEMP TABLE _rec_pairs AS
            SELECT DISTINCT partner_id, account_id, status FROM {staged}
            WHERE account_id IN (SELECT account_id FROM _rec_won)"""
        )
    con.execute(
        """CREATE OR REPLACE TEMP TABLE _rec_overlap AS
        SELECT DISTINCT w.opportunity_id, p.partner_id, p.status FROM _rec_won w
        JOIN _rec_pairs p ON p.account_id = w.account_id"""
    )
    # A finding asks a person to reopen a won deal, so it takes only the touches made while the deal
    # was worked (from the sourcing lookback before its creation to its close; logged on another
    # deal of the account, or the rules would have associated them) by a partner that lists the
    # account. Older touches stay on `accounts match`'s list, which is every such win (SPEC section
    # 7), but are no reason to reopen a deal: half the demo's wins have one (docs/hygiene-review.md).
    lookback = policy.lookback_days * MICROS_PER_DAY
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _rec_unattributed AS SELECT u.* FROM ("
        + unattributed_touches_sql("_rec_deals", "_rec_pairs", policy)
        + f") u JOIN _rec_won w USING (opportunity_id) WHERE epoch_us(u.occurred_at) >= w.c_us - {lookback} "
        "AND EXISTS (SELECT 1 FROM _rec_pairs p WHERE p.account_id = w.account_id AND p.partner_id = u.partner_id)"
    )


def has_rule(rule: str) -> str:
    """SQL: the deal's attribution version (``d``) carries ``rule`` among its rule codes."""
    return f"d.rules LIKE '% {rule} %'"


def hits(con: Engine) -> None:
    """``_rec_hits``: (kind, opportunity_id) of every finding."""
    partner_tiers, confirmed = _in(PARTNER_TIERS), _in(CONFIRMED)
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE _rec_hits AS
        WITH h AS (
            SELECT 'untagged_partner_involvement' AS kind, d.opportunity_id FROM _rec_deals d
            WHERE d.declared_source = 'none' AND d.tier IN {partner_tiers}
            UNION ALL
            SELECT 'missing_attribution_at_close', d.opportunity_id FROM _rec_deals d
            WHERE NOT coalesce(d.source_at_close IN {confirmed}, FALSE) AND NOT d.declared_by_close
            UNION ALL
            SELECT 'over_credited', d.opportunity_id FROM _rec_deals d
            WHERE d.declared_source = 'sourced' AND d.tier IS NOT NULL
                AND NOT (d.tier = 'sourced' AND coalesce(d.computed_partner_id = d.declared_partner_id,
                                                         d.declared_partner_id IS NULL))
                AND ({has_rule("DIRECT_FIRST")} OR {has_rule("TIE_TO_DIRECT")})
            UNION ALL
            SELECT 'double_sourced', d.opportunity_id FROM _rec_deals d
            WHERE {has_rule("DOUBLE_SOURCED")} OR d.opportunity_id IN (
                SELECT opportunity_id FROM _rec_claims GROUP BY opportunity_id
                HAVING count(DISTINCT partner_id) >= 2)
            UNION ALL
            SELECT 'influence_without_activity', d.opportunity_id FROM _rec_deals d
            WHERE d.declared_source IN ('influenced', 'accelerated') AND NOT d.has_log
                AND NOT EXISTS (
                    SELECT 1 FROM _rec_ptouch p WHERE p.opportunity_id = d.opportunity_id
                    AND (d.declared_partner_id IS NULL OR p.partner_id = d.declared_partner_id))
            UNION ALL
            SELECT 'acceleration_unproven', d.opportunity_id FROM _rec_deals d
            WHERE d.declared_source = 'accelerated' AND d.tier IS NOT NULL AND d.tier <> 'accelerated'
                AND ({has_rule("NOT_FASTER")} OR {has_rule("NO_BASELINE")})
            UNION ALL
            SELECT DISTINCT 'account_mismatch', opportunity_id FROM _rec_elsewhere
            UNION ALL
            SELECT DISTINCT 'overlap_unattributed', opportunity_id FROM _rec_unattributed)
        SELECT * FROM h
        UNION ALL
        SELECT 'declared_mismatch', d.opportunity_id FROM _rec_deals d
        WHERE d.declared_source IN {confirmed} AND d.tier IS NOT NULL
            AND (d.declared_source <> d.tier
                 OR (d.declared_partner_id IS NOT NULL AND d.tier <> 'none'
                     AND d.computed_partner_id IS DISTINCT FROM d.declared_partner_id))
            AND d.opportunity_id NOT IN (
                SELECT opportunity_id FROM h WHERE kind IN {_in(EXPLAINING_KINDS)})"""
    )
