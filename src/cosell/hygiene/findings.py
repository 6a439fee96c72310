"""Reconciliation findings, detected in the database over the ``v_`` views (SPEC section 4).

:func:`detect` reads the closed-won deals whose close time X falls in a window, and cross-checks
each one's declared attribution (the CRM fields overlaid by cosell's declarations) against its
attribution version (``v_attribution``), partner activity (``v_touches``), registrations, leads,
declared partners and account overlap (``v_partner_accounts`` by normalised domain). Every check is
one SQL statement over all deals at once, so a month of a million-deal workspace takes seconds.

The result is the temp table ``_rec_findings`` (columns :data:`FINDING_COLUMNS`), one row per
(kind, deal), plus ``_rec_deals`` (the deals checked). The exact reading of every kind is in
docs/hygiene-review.md; in short:

- ``untagged_partner_involvement``: declared ``none``, computed a partner tier;
- ``missing_attribution_at_close``: partner_source not confirmed at X (field_history, else the CRM
  value), and no auto-tag or answered prompt recorded by X;
- ``over_credited``: declared sourced, not computed sourced by the declared partner, and a
  DIRECT_FIRST / TIE_TO_DIRECT guard blocked a sourcing claim;
- ``double_sourced``: the DOUBLE_SOURCED guard, or two partners claiming the source (the CRM,
  opportunity_partners sourcer rows, approved registrations, partner leads);
- ``influence_without_activity``: declared influenced or accelerated, an empty activity log and no
  partner-engagement touch of the declared partner (any partner when none is named) by X;
- ``acceleration_unproven``: declared accelerated, computed not accelerated because the test ran
  and failed (NOT_FASTER) or had no baseline (NO_BASELINE);
- ``account_mismatch``: registrations, leads or touches linked to the deal sit on another account;
- ``declared_mismatch``: any other difference in tier or partner, when none of the kinds above that
  read the declared value already explains the deal.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime

import duckdb

from cosell.hygiene.declared import declared_views
from cosell.hygiene.prompts import expired_prompts
from cosell.hygiene.review_store import KINDS as KINDS
from cosell.hygiene.sql import in_list as _in
from cosell.hygiene.sql import lit as _lit
from cosell.hygiene.sql import ts as _ts
from cosell.hygiene.sql import won_entry_ctes
from cosell.instants import MICROS_PER_DAY
from cosell.metrics.fx import check_rates, converted_amounts_sql
from cosell.policy import Policy

KIND_CODES = {
    "untagged_partner_involvement": "UPI",
    "missing_attribution_at_close": "MAC",
    "over_credited": "OVC",
    "double_sourced": "DBS",
    "influence_without_activity": "IWA",
    "acceleration_unproven": "ACU",
    "account_mismatch": "ACM",
    "declared_mismatch": "DMM",
    "prompt_expired": "PEX",
}
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
CONFIRM_NONE = "confirm partner_source=none in the CRM"
MEMORY_ENV = "COSELL_RECONCILE_MEMORY"
DEFAULT_MEMORY_LIMIT = "3GB"

FINDING_COLUMNS = (
    "finding_id",
    "kind",
    "opportunity_id",
    "closed_at",
    "declared_source",
    "declared_partner_id",
    "computed_tier",
    "computed_partner_id",
    "run_id",
    "amount",
    "currency",
    "at_stake",
    "suggested_tier",
    "suggested_partner_id",
    "suggested_fix",
    "evidence",
    "overridden",
)


@dataclass(frozen=True)
class Window:
    """The deals to check: closed-won with ``start <= X < end`` (open ends when None) and X at or
    before ``evaluated_at`` (the as-of instant: a deal cannot have closed after what is known)."""

    label: str
    start: datetime | None
    end: datetime | None
    evaluated_at: datetime


def finding_id(kind: str, opportunity_id: str) -> str:
    """The stable id of a finding: its kind's code and the deal (``OVC-006A000042``)."""
    return f"{KIND_CODES[kind]}-{opportunity_id}"


def instant_text(expr: str) -> str:
    """SQL text of an instant as :func:`cosell.instants.format_instant` writes it."""
    frac = f"(epoch_us({expr}) % 1000000 + 1000000) % 1000000"
    return (
        f"(strftime({expr}, '%Y-%m-%dT%H:%M:%S') || CASE WHEN {frac} = 0 THEN '' "
        f"ELSE '.' || lpad(CAST({frac} AS VARCHAR), 6, '0') END || 'Z')"
    )


def _item(kind: str, ident: str, partner: str | None = None, at: str | None = None) -> str:
    """SQL for one evidence item ``kind:id[/partner][@instant]`` (NULL parts are left out)."""
    text = f"'{kind}:' || {ident}"
    if partner is not None:
        text += f" || coalesce('/' || {partner}, '')"
    if at is not None:
        text += f" || coalesce('@' || {instant_text(at)}, '')"
    return text


def _table_exists(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    row = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [name]
    ).fetchone()
    return bool(row and row[0])


def declared_relation(con: duckdb.DuckDBPyConnection, as_of: datetime | None) -> str:
    """``v_declared`` as known at ``as_of``: each deal's declared attribution (the CRM fields
    overlaid by answered prompts, or an auto-tag where the CRM partner_source is empty)."""
    declared_views(con, as_of)
    return "v_declared"


def _version_filter(as_of: datetime | None) -> str:
    if as_of is None:
        return "_valid_to IS NULL"
    t = _ts(as_of)
    return f"_valid_from <= {t} AND (_valid_to IS NULL OR _valid_to > {t})"


def _won_deals(con: duckdb.DuckDBPyConnection, policy: Policy, window: Window) -> None:
    """``_rec_won``: closed-won deals with their close time X inside the window."""
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
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE _rec_won AS
        WITH o0 AS (
            SELECT opportunity_id, account_id, created_at, amount, stage, close_date, source_lead_id,
                coalesce(nullif(trim(currency), ''), {_lit(policy.workspace_currency)}) AS currency
            FROM v_opportunities WHERE stage IN {_in(won)}),
        o AS (SELECT * FROM o0 WHERE opportunity_id IN ({candidates})),
        sh AS (
            SELECT DISTINCT s.opportunity_id, s.stage, s.entered_at FROM v_stage_history s
            WHERE s.opportunity_id IN (SELECT opportunity_id FROM o)),{won_entry_ctes(won, lost, "x_at")}
        SELECT opportunity_id, account_id, created_at, amount, currency, stage, source_lead_id,
            x_at AS closed_at, epoch_us(created_at) AS c_us, epoch_us(x_at) AS x_us
        FROM w WHERE {" AND ".join(bounds)}"""
    )


def _deals(con: duckdb.DuckDBPyConnection, policy: Policy, as_of: datetime | None, declared: str) -> None:
    """``_rec_deals``: each won deal with its declared values, value at close and attribution."""
    confirmed = _in(CONFIRMED)
    declarations = "SELECT NULL::VARCHAR AS opportunity_id, NULL::TIMESTAMPTZ AS at WHERE FALSE"
    if _table_exists(con, "declarations"):
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
            FROM opportunities WHERE {_version_filter(as_of)}
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


def _touches(con: duckdb.DuckDBPyConnection) -> None:
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


def _activity(con: duckdb.DuckDBPyConnection, policy: Policy) -> None:
    """``_rec_ptouch``: partner-engagement touches associated with each deal at or before X.
    ``_rec_direct``: each deal's earliest direct-engagement touch on its account (or logged on it)
    inside the sourcing lookback, the touch a direct-first guard points at."""
    kinds = _in(policy.partner_kinds | policy.direct_kinds)
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
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE _rec_direct AS
        WITH t AS (SELECT * FROM _rec_touches WHERE actor = 'direct' AND kind IN {kinds}),
        hits AS (
            SELECT w.opportunity_id, t.touch_id, t.occurred_at FROM _rec_won w
            JOIN t ON t.account_id = w.account_id
            WHERE t.t_us >= w.c_us - {lookback} AND t.t_us <= w.c_us
            UNION ALL
            SELECT w.opportunity_id, t.touch_id, t.occurred_at FROM _rec_won w
            JOIN t ON t.touch_opp = w.opportunity_id
            WHERE t.t_us >= w.c_us - {lookback} AND t.t_us <= w.c_us)
        SELECT opportunity_id, touch_id, occurred_at FROM hits
        QUALIFY row_number() OVER (PARTITION BY opportunity_id ORDER BY occurred_at, touch_id) = 1"""
    )


def _claims_and_accounts(con: duckdb.DuckDBPyConnection) -> None:
    """``_rec_claims``: who claims to have sourced each deal. ``_rec_elsewhere``: evidence linked to
    a deal but on another account. ``_rec_overlap``: partners listing the deal's account."""
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
    norm = "regexp_replace(regexp_replace(lower(trim({0})), '^([a-z]+://)?(www[.])?', ''), '[/:?#].*$', '')"
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE _rec_overlap AS
        WITH a AS (
            SELECT account_id, {norm.format("domain")} AS d FROM v_accounts
            WHERE account_id IN (SELECT account_id FROM _rec_won)),
        p AS (SELECT partner_id, status, {norm.format("domain")} AS d FROM v_partner_accounts)
        SELECT DISTINCT w.opportunity_id, p.partner_id, p.status FROM _rec_won w
        JOIN a ON a.account_id = w.account_id JOIN p ON p.d = a.d WHERE a.d <> ''"""
    )


def _has(rule: str) -> str:
    return f"d.rules LIKE '% {rule} %'"


def _hits(con: duckdb.DuckDBPyConnection) -> None:
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
                AND ({_has("DIRECT_FIRST")} OR {_has("TIE_TO_DIRECT")})
            UNION ALL
            SELECT 'double_sourced', d.opportunity_id FROM _rec_deals d
            WHERE {_has("DOUBLE_SOURCED")} OR d.opportunity_id IN (
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
                AND ({_has("NOT_FASTER")} OR {_has("NO_BASELINE")})
            UNION ALL
            SELECT DISTINCT 'account_mismatch', opportunity_id FROM _rec_elsewhere)
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


def _evidence(con: duckdb.DuckDBPyConnection) -> None:
    """``_rec_evidence``: each finding's evidence, ``kind:id[/partner][@instant]`` items."""
    guards = " UNION ALL ".join(
        f"SELECT h.kind, h.opportunity_id, 2, 'guard:{g}' FROM _rec_hits h JOIN _rec_deals d "
        f"USING (opportunity_id) WHERE h.kind = '{k}' AND {_has(g)}"
        for k, g in (
            ("over_credited", "DIRECT_FIRST"),
            ("over_credited", "TIE_TO_DIRECT"),
            ("double_sourced", "DOUBLE_SOURCED"),
            ("influence_without_activity", "NO_ACTIVITY"),
            ("acceleration_unproven", "NOT_FASTER"),
            ("acceleration_unproven", "NO_BASELINE"),
        )
    )
    with_attribution = _in(
        (
            "untagged_partner_involvement",
            "missing_attribution_at_close",
            "over_credited",
            "double_sourced",
            "acceleration_unproven",
            "declared_mismatch",
        )
    )
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE _rec_evidence AS
        WITH e AS (
            SELECT h.kind, h.opportunity_id, unnest(string_split(d.attribution_evidence, ' ')) AS item
            FROM _rec_hits h JOIN _rec_deals d USING (opportunity_id)
            WHERE h.kind IN {with_attribution} AND d.attribution_evidence <> ''),
        e2 AS (
            SELECT kind, opportunity_id, item, split_part(item, ':', 1) AS type,
                substr(item, strpos(item, ':') + 1) AS id FROM e),
        dated AS (
            SELECT e2.kind, e2.opportunity_id, 5 AS ord,
                e2.item || coalesce('@' || {instant_text("coalesce(t.occurred_at, l.created_at, r.registered_at)")}, '')
                    AS item
            FROM e2
            LEFT JOIN _rec_touches t ON t.touch_id = CASE WHEN e2.type = 'touch' THEN e2.id END
            LEFT JOIN v_leads l ON l.lead_id = CASE WHEN e2.type = 'lead' THEN e2.id END
            LEFT JOIN v_deal_registrations r ON r.registration_id = CASE WHEN e2.type = 'registration'
                THEN e2.id END),
        items AS (
            SELECT * FROM dated
            UNION ALL {guards}
            UNION ALL
            SELECT h.kind, h.opportunity_id, 1,
                'partner_source_at_close:' || coalesce(d.source_at_close, 'empty')
            FROM _rec_hits h JOIN _rec_deals d USING (opportunity_id)
            WHERE h.kind = 'missing_attribution_at_close'
            UNION ALL
            SELECT h.kind, h.opportunity_id, 1,
                {_item("confirmed_after_close", "d.later_value", "d.later_by", "d.later_at")}
            FROM _rec_hits h JOIN _rec_deals d USING (opportunity_id)
            WHERE h.kind = 'missing_attribution_at_close' AND d.later_value IS NOT NULL
            UNION ALL
            SELECT h.kind, h.opportunity_id, 1,
                {_item("declared", "d.declared_source", "d.declared_partner_id")}
            FROM _rec_hits h JOIN _rec_deals d USING (opportunity_id)
            WHERE h.kind IN ('over_credited', 'influence_without_activity', 'acceleration_unproven')
            UNION ALL
            SELECT h.kind, h.opportunity_id, 1, {_item("direct_touch", "x.touch_id", None, "x.occurred_at")}
            FROM _rec_hits h JOIN _rec_direct x USING (opportunity_id) WHERE h.kind = 'over_credited'
            UNION ALL
            SELECT h.kind, h.opportunity_id, 1,
                {_item("claim", "c.source || coalesce(':' || c.ref, '')", "c.partner_id", "c.at")}
            FROM _rec_hits h JOIN _rec_claims c USING (opportunity_id) WHERE h.kind = 'double_sourced'
            UNION ALL
            SELECT h.kind, h.opportunity_id, 1, 'activity_log:empty'
            FROM _rec_hits h WHERE h.kind = 'influence_without_activity'
            UNION ALL
            SELECT h.kind, h.opportunity_id, 1, 'partner_touches_by_close:0'
            FROM _rec_hits h WHERE h.kind = 'influence_without_activity'
            UNION ALL
            SELECT h.kind, h.opportunity_id, 1, 'engaged_at:' || {instant_text("d.engagement_at")}
            FROM _rec_hits h JOIN _rec_deals d USING (opportunity_id)
            WHERE h.kind = 'acceleration_unproven' AND d.engagement_at IS NOT NULL
            UNION ALL
            SELECT h.kind, h.opportunity_id, 1, 'remaining_days:' || CAST(d.remaining_days AS VARCHAR)
            FROM _rec_hits h JOIN _rec_deals d USING (opportunity_id)
            WHERE h.kind = 'acceleration_unproven' AND d.remaining_days IS NOT NULL
            UNION ALL
            SELECT h.kind, h.opportunity_id, 1, 'baseline_days:' || CAST(d.baseline_days AS VARCHAR)
            FROM _rec_hits h JOIN _rec_deals d USING (opportunity_id)
            WHERE h.kind = 'acceleration_unproven' AND d.baseline_days IS NOT NULL
            UNION ALL
            SELECT h.kind, h.opportunity_id, 1,
                'cohort:' || d.cohort || coalesce('/' || CAST(d.cohort_size AS VARCHAR), '')
            FROM _rec_hits h JOIN _rec_deals d USING (opportunity_id)
            WHERE h.kind = 'acceleration_unproven' AND nullif(d.cohort, '') IS NOT NULL
            UNION ALL
            SELECT h.kind, h.opportunity_id, 1, 'deal_account:' || d.account_id
            FROM _rec_hits h JOIN _rec_deals d USING (opportunity_id) WHERE h.kind = 'account_mismatch'
            UNION ALL
            SELECT h.kind, h.opportunity_id, 3,
                x.type || ':' || x.id || '/' || x.account_id || coalesce('@' || {instant_text("x.at")}, '')
            FROM _rec_hits h JOIN _rec_elsewhere x USING (opportunity_id) WHERE h.kind = 'account_mismatch'
            UNION ALL
            SELECT h.kind, h.opportunity_id, 6, 'overlap:' || o.partner_id || '/' || o.status
            FROM _rec_hits h JOIN _rec_overlap o USING (opportunity_id))
        SELECT kind, opportunity_id, string_agg(item, ' ' ORDER BY ord, item) AS evidence
        FROM (SELECT DISTINCT kind, opportunity_id, ord, item FROM items)
        GROUP BY kind, opportunity_id"""
    )


def _expired_prompts(
    con: duckdb.DuckDBPyConnection, policy: Policy, window: Window, as_of: datetime | None, declared: str
) -> str:
    """``_rec_prompts``: influence prompts that expired unanswered inside the window; returns the
    SELECT of their ``prompt_expired`` findings (one per deal). The deal is open pipeline, so its
    money is converted like pipeline (SPEC section 5): at the rate of the period it was created in,
    which the data always has, unlike the expiry period (it may lie after the last rate)."""
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _rec_prompts (prompt_id VARCHAR, opportunity_id VARCHAR, "
        "partner_id VARCHAR, rep_id VARCHAR, trigger_ref VARCHAR, expires_at TIMESTAMPTZ)"
    )
    rows = [
        (p.prompt_id, p.opportunity_id, p.partner_id, p.rep_id or None, p.trigger_ref, p.expires_at)
        for p in expired_prompts(con, policy, window.evaluated_at if as_of is not None else None)
        if (window.start is None or p.expires_at >= window.start)
        and (window.end is None or p.expires_at < window.end)
        and p.expires_at <= window.evaluated_at
    ]
    if rows:
        con.executemany("INSERT INTO _rec_prompts VALUES (?, ?, ?, ?, ?, ?)", rows)
    source = f"""
        SELECT p.opportunity_id, o.amount, o.created_at,
            coalesce(nullif(trim(o.currency), ''), {_lit(policy.workspace_currency)}) AS currency
        FROM _rec_prompts p JOIN v_opportunities o ON o.opportunity_id = p.opportunity_id
        GROUP BY p.opportunity_id, o.amount, o.currency, o.created_at"""
    converted = converted_amounts_sql(source, "created_at", policy)
    check_rates(con, converted)
    return f"""
        WITH money AS ({converted}),
        ev AS (
            SELECT opportunity_id, string_agg(item, ' ' ORDER BY item) AS evidence FROM (
                SELECT opportunity_id, {_item("prompt", "prompt_id", "partner_id", "expires_at")} AS item
                FROM _rec_prompts
                UNION ALL SELECT opportunity_id, 'rep:' || rep_id FROM _rec_prompts WHERE rep_id IS NOT NULL
                UNION ALL SELECT opportunity_id, 'trigger:' || trigger_ref FROM _rec_prompts)
            GROUP BY opportunity_id)
        SELECT 'PEX-' || m.opportunity_id, 'prompt_expired', m.opportunity_id, w.closed_at,
            nullif(lower(trim(d.partner_source)), ''), nullif(trim(d.partner_id), ''),
            a.tier, nullif(a.primary_partner_id, ''), a.run_id, m.amount, m.currency, m.amount_ws,
            NULL, NULL,
            'the owning rep declares partner_source (influenced or accelerated) and logs the activity',
            ev.evidence, coalesce(a.rules LIKE '%OVR%', FALSE)
        FROM money m JOIN ev ON ev.opportunity_id = m.opportunity_id
        LEFT JOIN _rec_won w ON w.opportunity_id = m.opportunity_id
        LEFT JOIN {declared} d ON d.opportunity_id = m.opportunity_id
        LEFT JOIN v_attribution a ON a.opportunity_id = m.opportunity_id"""


def _findings_table(con: duckdb.DuckDBPyConnection, prompt_findings: str) -> None:
    """``_rec_findings``: one row per finding with :data:`FINDING_COLUMNS`."""
    codes = " ".join(f"WHEN {_lit(k)} THEN {_lit(c)}" for k, c in KIND_CODES.items())
    partner_tiers = _in(PARTNER_TIERS)
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE _rec_findings AS
        WITH accounts AS (
            SELECT opportunity_id, string_agg(DISTINCT account_id, ', ' ORDER BY account_id) AS others
            FROM _rec_elsewhere GROUP BY opportunity_id)
        SELECT (CASE h.kind {codes} END) || '-' || h.opportunity_id AS finding_id,
            h.kind, h.opportunity_id, d.closed_at, d.declared_source, d.declared_partner_id,
            d.tier AS computed_tier, d.computed_partner_id, d.run_id, d.amount, d.currency,
            d.amount_ws AS at_stake,
            CASE WHEN h.kind <> 'account_mismatch' AND d.tier IN {partner_tiers} THEN d.tier END
                AS suggested_tier,
            CASE WHEN h.kind <> 'account_mismatch' AND d.tier IN {partner_tiers}
                THEN d.computed_partner_id END AS suggested_partner_id,
            CASE WHEN h.kind = 'account_mismatch'
                    THEN 'check the opportunity''s account in the CRM: its evidence is on ' || a.others
                WHEN d.tier IS NULL THEN 'attribute the deal first (cosell attribute), then reconcile'
                WHEN d.tier = 'none' THEN {_lit(CONFIRM_NONE)}
                ELSE 'override to ' || d.tier || coalesce(' with partner ' || d.computed_partner_id, '')
            END AS suggested_fix,
            coalesce(e.evidence, '') AS evidence,
            d.rules LIKE '% OVR %' AS overridden
        FROM _rec_hits h JOIN _rec_deals d USING (opportunity_id)
        LEFT JOIN _rec_evidence e ON e.kind = h.kind AND e.opportunity_id = h.opportunity_id
        LEFT JOIN accounts a ON a.opportunity_id = h.opportunity_id
        UNION ALL ({prompt_findings})"""
    )


def detect(con: duckdb.DuckDBPyConnection, policy: Policy, window: Window, as_of: datetime | None) -> int:
    """Detect the findings of the window's closed-won deals; return how many deals were checked.

    Reads the ``v_<table>`` views, ``v_attribution`` (each deal's version known at ``as_of``: build
    them first with :func:`cosell.store.workspace.as_of_views` and
    :func:`cosell.store.versions.attribution_views`) and the declared values known at ``as_of``.
    Leaves the findings in the temp table ``_rec_findings`` (:data:`FINDING_COLUMNS`) and the deals
    in ``_rec_deals``. Raises :class:`cosell.metrics.fx.MissingRate` when a deal's close-period rate
    is missing (money at stake cannot be stated).
    """
    declared = declared_relation(con, as_of)
    # Like the engine and the import, work under a memory limit and let DuckDB spill beyond it, so
    # reconciling every closed-won deal of a million-deal workspace stays under 4 GiB.
    previous = con.execute("SELECT current_setting('memory_limit')").fetchall()[0][0]
    con.execute(f"SET memory_limit = '{os.environ.get(MEMORY_ENV) or DEFAULT_MEMORY_LIMIT}'")
    try:
        _detect(con, policy, window, as_of, declared)
    finally:
        con.execute(f"SET memory_limit = '{previous}'")
    row = con.execute("SELECT count(*) FROM _rec_deals").fetchone()
    return int(row[0]) if row else 0


def _detect(
    con: duckdb.DuckDBPyConnection, policy: Policy, window: Window, as_of: datetime | None, declared: str
) -> None:
    _won_deals(con, policy, window)
    _deals(con, policy, as_of, declared)
    _touches(con)
    _activity(con, policy)
    _claims_and_accounts(con)
    _hits(con)
    _evidence(con)
    _findings_table(con, _expired_prompts(con, policy, window, as_of, declared))


def drop_work_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Drop the temp tables :func:`detect` made (the findings are read by then)."""
    names = (
        "won",
        "deals",
        "ptouch",
        "direct",
        "claims",
        "elsewhere",
        "overlap",
        "hits",
        "evidence",
        "prompts",
    )
    for name in names:
        con.execute(f"DROP TABLE IF EXISTS _rec_{name}")
